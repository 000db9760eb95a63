import Foundation

/// A schedule that fires at a fixed interval (`every: 30s`), on ticks aligned to the Unix epoch.
///
/// Tick `k` is at `k × period` after 1970-01-01 00:00:00 UTC, so every node computes the same
/// ticks without talking to the others, and a restart does not shift them: `every: 1h` fires on
/// the hour (UTC), `every: 30s` at :00 and :30 of each minute. Periods that are not a whole
/// number of seconds tick on multiples of their length too (a 1.5 s period at …:00, …:01.5).
public struct IntervalSchedule: Sendable, Hashable, CustomStringConvertible {
    /// The time between two ticks; at least one second.
    public let period: Duration

    /// ``period`` in seconds.
    private var periodSeconds: Double {
        let (seconds, attoseconds) = period.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Creates a schedule.
    ///
    /// - Parameter period: The time between two ticks.
    /// - Throws: ``ScheduleError`` with code ``ScheduleError/Code/intervalTooShort`` when `period`
    ///   is shorter than one second.
    public init(every period: Duration) throws(ScheduleError) {
        guard period >= .seconds(1) else {
            throw ScheduleError(.intervalTooShort, "an interval must be at least 1 second, got \(period)")
        }
        self.period = period
    }

    /// `every 30.0 seconds`.
    public var description: String { "every \(period)" }

    /// The first tick strictly after `instant`.
    ///
    /// - Parameter instant: The time to start after; a tick at `instant` itself is not returned.
    /// - Returns: The next tick, a multiple of ``period`` after the Unix epoch.
    public func next(after instant: Date) -> Date {
        Date(timeIntervalSince1970: (tickIndex(atOrBefore: instant) + 1) * periodSeconds)
    }

    /// The last tick at or before `instant`.
    func tick(atOrBefore instant: Date) -> Date {
        Date(timeIntervalSince1970: tickIndex(atOrBefore: instant) * periodSeconds)
    }

    /// The number `k` of the last tick at or before `instant`, as a whole `Double`.
    ///
    /// The division can be off by one when the period is not a whole number of seconds, so the
    /// result is checked against the tick times themselves (`k × period`, computed the same way
    /// everywhere); `tick(atOrBefore: t)` is then exactly `t` whenever `t` is a tick.
    private func tickIndex(atOrBefore instant: Date) -> Double {
        let time = instant.timeIntervalSince1970
        let step = periodSeconds
        var index = (time / step).rounded(.down)
        if index * step > time { index -= 1 }
        if (index + 1) * step <= time { index += 1 }
        return index
    }
}
