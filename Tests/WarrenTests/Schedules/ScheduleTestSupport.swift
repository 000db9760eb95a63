import Foundation

@testable import WarrenCore

/// An instant written in ISO 8601 with its offset, such as `2025-03-30T01:30:00Z`.
func instant(_ text: String) -> Date {
    do {
        return try Date(text, strategy: .iso8601)
    } catch {
        fatalError("not an ISO 8601 instant: \(text)")
    }
}

/// A zone of the tz database, known to exist on the test machine.
func zone(_ identifier: String) -> TimeZone {
    guard let zone = TimeZone(identifier: identifier) else { fatalError("unknown time zone \(identifier)") }
    return zone
}

let utcZone = zone("UTC")
let berlin = zone("Europe/Berlin")
let newYork = zone("America/New_York")

extension CronField {
    /// The allowed values, in ascending order.
    var values: [Int] { (0..<64).filter(contains) }
}

extension CronExpression {
    /// The fires strictly after `start` and at or before `end`, found by chaining ``next(after:in:)``.
    func fires(after start: Date, through end: Date, in zone: TimeZone) -> [Date] {
        var fires: [Date] = []
        var cursor = start
        while let fire = next(after: cursor, in: zone), fire <= end {
            fires.append(fire)
            cursor = fire
        }
        return fires
    }
}
