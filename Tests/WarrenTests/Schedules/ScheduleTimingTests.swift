import Foundation
import Testing

@testable import WarrenCore

@Suite("Schedule timing")
struct ScheduleTimingTests {
    @Test("an interval: next, current tick and period")
    func interval() throws {
        let timing = ScheduleTiming.every(try IntervalSchedule(every: .seconds(30)))
        let now = instant("2025-06-01T10:00:40Z")
        #expect(timing.next(after: now) == instant("2025-06-01T10:01:00Z"))
        #expect(timing.tick(atOrBefore: now) == instant("2025-06-01T10:00:30Z"))
        #expect(timing.period(at: now) == .seconds(30))
        #expect(timing.description == "every 30.0 seconds")
    }

    @Test("cron: next, current tick and period in a zone")
    func cron() throws {
        let timing = ScheduleTiming.cron(try CronExpression("30 2 * * *"), berlin)
        let now = instant("2025-01-15T12:00:00Z")
        #expect(timing.next(after: now) == instant("2025-01-16T01:30:00Z"))
        #expect(timing.tick(atOrBefore: now) == instant("2025-01-15T01:30:00Z"))
        #expect(timing.period(at: now) == .seconds(24 * 3_600))
        #expect(timing.description == "cron 30 2 * * * in Europe/Berlin")
    }

    @Test(
        "the cron period follows the calendar and the clock changes",
        arguments: [
            ("30 2 * * *", "Europe/Berlin", "2025-03-30T12:00:00Z", 47),  // 29th 01:30Z to 31st 00:30Z
            ("@daily", "Europe/Berlin", "2025-03-30T12:00:00Z", 23),
            ("@daily", "Europe/Berlin", "2025-10-26T12:00:00Z", 25),
            ("@daily", "America/New_York", "2025-11-02T12:00:00Z", 25),
            ("@monthly", "UTC", "2025-02-10T00:00:00Z", 28 * 24),
            ("@monthly", "UTC", "2024-02-10T00:00:00Z", 29 * 24),
            ("0 9 * * MON-FRI", "UTC", "2025-06-06T12:00:00Z", 72),  // Friday to Monday
        ])
    func cronPeriod(expression: String, identifier: String, at: String, hours: Int) throws {
        let timing = ScheduleTiming.cron(try CronExpression(expression), zone(identifier))
        #expect(timing.period(at: instant(at)) == .seconds(hours * 3_600))
    }
}
