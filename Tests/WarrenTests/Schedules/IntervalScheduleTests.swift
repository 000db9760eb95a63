import Foundation
import Testing

@testable import WarrenCore

@Suite("Interval schedules")
struct IntervalScheduleTests {
    @Test("ticks are multiples of the period since the Unix epoch")
    func alignedToEpoch() throws {
        let thirty = try IntervalSchedule(every: .seconds(30))
        #expect(thirty.next(after: instant("2025-06-01T10:00:10Z")) == instant("2025-06-01T10:00:30Z"))
        #expect(thirty.next(after: instant("2025-06-01T10:00:30Z")) == instant("2025-06-01T10:01:00Z"))
        #expect(thirty.tick(atOrBefore: instant("2025-06-01T10:00:30Z")) == instant("2025-06-01T10:00:30Z"))
        #expect(thirty.tick(atOrBefore: instant("2025-06-01T10:00:29.999Z")) == instant("2025-06-01T10:00:00Z"))

        let hourly = try IntervalSchedule(every: .seconds(3_600))
        #expect(hourly.next(after: instant("2025-06-01T10:17:00Z")) == instant("2025-06-01T11:00:00Z"))

        // 7 s does not divide a minute: the ticks are still multiples of 7 s since 1970.
        let seven = try IntervalSchedule(every: .seconds(7))
        let tick = seven.next(after: instant("2025-06-01T10:00:00Z"))
        #expect(tick.timeIntervalSince1970.truncatingRemainder(dividingBy: 7) == 0)
        #expect(tick > instant("2025-06-01T10:00:00Z"))
        #expect(tick <= instant("2025-06-01T10:00:07Z"))
    }

    @Test("the same ticks whatever the instant asked from (every node agrees)")
    func sameTicks() throws {
        let schedule = try IntervalSchedule(every: .seconds(45))
        let expected = schedule.next(after: instant("2025-06-01T10:00:00Z"))
        for offset in stride(from: 0.0, to: 45, by: 0.37) {
            let asked = instant("2025-06-01T10:00:00Z").addingTimeInterval(offset)
            if asked < expected { #expect(schedule.next(after: asked) == expected) }
        }
    }

    @Test("a fractional period ticks on its multiples and maps each tick to itself")
    func fractionalPeriod() throws {
        let schedule = try IntervalSchedule(every: .milliseconds(1_500))
        var cursor = instant("2025-06-01T10:00:00Z")
        for _ in 0..<100 {
            let tick = schedule.next(after: cursor)
            #expect(tick > cursor)
            #expect(schedule.tick(atOrBefore: tick) == tick)
            #expect(schedule.next(after: tick).timeIntervalSince(tick) == 1.5)
            cursor = tick
        }
        #expect(schedule.tick(atOrBefore: instant("2025-06-01T10:00:01Z")) == instant("2025-06-01T10:00:00.000Z"))
    }

    @Test("refuses a period shorter than one second", arguments: [Duration.milliseconds(999), .zero, .seconds(-5)])
    func tooShort(period: Duration) {
        #expect {
            try IntervalSchedule(every: period)
        } throws: { error in
            (error as? ScheduleError)?.code == .intervalTooShort
        }
    }

    @Test("says what is wrong with a short period")
    func tooShortMessage() {
        #expect(throws: ScheduleError(.intervalTooShort, "an interval must be at least 1 second, got 0.5 seconds")) {
            try IntervalSchedule(every: .milliseconds(500))
        }
        #expect(throws: Never.self) { try IntervalSchedule(every: .seconds(1)) }
    }
}
