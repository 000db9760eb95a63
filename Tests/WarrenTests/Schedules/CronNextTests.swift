import Foundation
import Testing

@testable import WarrenCore

@Suite("Cron expressions: next fire")
struct CronNextTests {
    /// Each case: expression, instant, the next fire after it (all in UTC).
    @Test(
        "follows every field",
        arguments: [
            ("* * * * *", "2025-06-01T10:00:00Z", "2025-06-01T10:01:00Z"),
            ("* * * * *", "2025-06-01T10:00:59.999Z", "2025-06-01T10:01:00Z"),
            ("*/15 * * * *", "2025-06-01T10:16:00Z", "2025-06-01T10:30:00Z"),
            ("*/15 * * * *", "2025-06-01T10:45:00Z", "2025-06-01T11:00:00Z"),
            ("10-30/10 * * * *", "2025-06-01T10:30:00Z", "2025-06-01T11:10:00Z"),
            ("5/20 * * * *", "2025-06-01T10:46:00Z", "2025-06-01T11:05:00Z"),
            ("0 9-17 * * *", "2025-06-01T17:00:00Z", "2025-06-02T09:00:00Z"),
            ("0 9-17 * * *", "2025-06-01T12:30:00Z", "2025-06-01T13:00:00Z"),
            ("0 22-23,0-2 * * *", "2025-06-01T02:00:00Z", "2025-06-01T22:00:00Z"),
            ("30 2 1,15 * *", "2025-06-01T03:00:00Z", "2025-06-15T02:30:00Z"),
            ("0 0 1 JAN,JUL *", "2025-01-01T00:00:00Z", "2025-07-01T00:00:00Z"),
            ("0 0 * * MON-FRI", "2025-06-06T12:00:00Z", "2025-06-09T00:00:00Z"),  // Friday -> Monday
            ("0 12 * * SAT,SUN", "2025-06-02T00:00:00Z", "2025-06-07T12:00:00Z"),
            ("@hourly", "2025-06-01T10:00:00Z", "2025-06-01T11:00:00Z"),
            ("@daily", "2025-06-01T10:00:00Z", "2025-06-02T00:00:00Z"),
            ("@weekly", "2025-06-01T00:00:00Z", "2025-06-08T00:00:00Z"),  // Sunday to Sunday
            ("@monthly", "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z"),
            ("@yearly", "2025-06-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ])
    func fields(expression: String, after: String, expected: String) throws {
        let cron = try CronExpression(expression)
        #expect(cron.next(after: instant(after), in: utcZone) == instant(expected))
    }

    @Test("is strictly after the instant")
    func strictlyAfter() throws {
        let cron = try CronExpression("30 2 * * *")
        #expect(cron.next(after: instant("2025-06-01T02:30:00Z"), in: utcZone) == instant("2025-06-02T02:30:00Z"))
        #expect(cron.next(after: instant("2025-06-01T02:29:59.999Z"), in: utcZone) == instant("2025-06-01T02:30:00Z"))
    }

    @Test("day of month OR day of week when both are restricted (Vixie cron)")
    func dayOrRule() throws {
        let cron = try CronExpression("0 0 1 * MON")
        // Sunday the 1st fired at midnight: the next is Monday the 2nd, then the Mondays, then the 1st (a Tuesday).
        let fires = cron.fires(after: instant("2025-06-01T00:00:00Z"), through: instant("2025-07-01T00:00:00Z"), in: utcZone)
        #expect(
            fires
                == ["2025-06-02", "2025-06-09", "2025-06-16", "2025-06-23", "2025-06-30", "2025-07-01"].map { instant("\($0)T00:00:00Z") })
    }

    @Test("the restricted day field alone when the other is *")
    func restrictedAlone() throws {
        let fifteenth = try CronExpression("0 0 15 * *")
        #expect(fifteenth.next(after: instant("2025-06-01T00:00:00Z"), in: utcZone) == instant("2025-06-15T00:00:00Z"))
        let mondays = try CronExpression("0 0 * * MON")
        #expect(mondays.next(after: instant("2025-06-02T00:00:00Z"), in: utcZone) == instant("2025-06-09T00:00:00Z"))
    }

    @Test("day of month AND day of week when one starts with * (*/2, as in Vixie cron)")
    func starStepIsAnd() throws {
        // Odd days that are Mondays: June 2nd is a Monday but even; June 9th is both.
        let cron = try CronExpression("0 0 */2 * MON")
        #expect(cron.next(after: instant("2025-06-01T00:00:00Z"), in: utcZone) == instant("2025-06-09T00:00:00Z"))
    }

    @Test("Sunday is 0, 7 and SUN", arguments: ["0 0 * * 0", "0 0 * * 7", "0 0 * * SUN", "0 0 * * sun", "0 0 * * 6-7"])
    func sunday(expression: String) throws {
        let cron = try CronExpression(expression)
        // Saturday 2025-06-07 at noon: the next fire is Sunday 2025-06-08 (6-7 would fire on Saturday).
        #expect(cron.next(after: instant("2025-06-07T12:00:00Z"), in: utcZone) == instant("2025-06-08T00:00:00Z"))
    }

    @Test("February 29th waits for the next leap year")
    func leapDay() throws {
        let cron = try CronExpression("0 0 29 2 *")
        #expect(cron.next(after: instant("2025-01-01T00:00:00Z"), in: utcZone) == instant("2028-02-29T00:00:00Z"))
        #expect(cron.next(after: instant("2024-02-29T00:00:00Z"), in: utcZone) == instant("2028-02-29T00:00:00Z"))
        // 2100 is not a leap year: eight years from 2096 to 2104.
        #expect(cron.next(after: instant("2096-03-01T00:00:00Z"), in: utcZone) == instant("2104-02-29T00:00:00Z"))
        #expect(cron.tick(atOrBefore: instant("2104-02-28T00:00:00Z"), in: utcZone) == instant("2096-02-29T00:00:00Z"))
    }

    @Test(
        "month ends skip months without the day",
        arguments: [
            ("0 0 31 * *", "2025-04-01T00:00:00Z", "2025-05-31T00:00:00Z"),
            ("0 0 31 * *", "2025-07-31T00:00:00Z", "2025-08-31T00:00:00Z"),
            ("0 0 31 * *", "2025-08-31T00:00:00Z", "2025-10-31T00:00:00Z"),
            ("0 0 30 * *", "2025-01-30T00:00:00Z", "2025-03-30T00:00:00Z"),
            ("0 0 29 * *", "2025-01-29T00:00:00Z", "2025-03-29T00:00:00Z"),
            ("0 0 29 * *", "2024-01-29T00:00:00Z", "2024-02-29T00:00:00Z"),
            ("59 23 31 12 *", "2025-12-31T23:59:00Z", "2026-12-31T23:59:00Z"),
            ("0 0 1 * *", "2025-12-15T00:00:00Z", "2026-01-01T00:00:00Z"),
        ])
    func monthEnds(expression: String, after: String, expected: String) throws {
        let cron = try CronExpression(expression)
        #expect(cron.next(after: instant(after), in: utcZone) == instant(expected))
    }

    @Test("fires at the UTC instant of the zone's wall clock")
    func zoneOffset() throws {
        let cron = try CronExpression("30 2 * * *")
        // Berlin is UTC+1 in winter, UTC+2 in summer.
        #expect(cron.next(after: instant("2025-01-15T00:00:00Z"), in: berlin) == instant("2025-01-15T01:30:00Z"))
        #expect(cron.next(after: instant("2025-07-15T00:00:00Z"), in: berlin) == instant("2025-07-15T00:30:00Z"))
        // New York is UTC-5 in winter, UTC-4 in summer.
        #expect(cron.next(after: instant("2025-01-15T00:00:00Z"), in: newYork) == instant("2025-01-15T07:30:00Z"))
        #expect(cron.next(after: instant("2025-07-15T00:00:00Z"), in: newYork) == instant("2025-07-15T06:30:00Z"))
        // The local date decides the day: 23:30 on Monday in New York is 03:30 UTC on Tuesday.
        let mondayNight = try CronExpression("30 23 * * MON")
        #expect(mondayNight.next(after: instant("2025-06-01T00:00:00Z"), in: newYork) == instant("2025-06-03T03:30:00Z"))
    }

    @Test("tick(atOrBefore:) is the latest fire at or before the instant")
    func tickAtOrBefore() throws {
        let cron = try CronExpression("30 2 * * *")
        #expect(cron.tick(atOrBefore: instant("2025-01-15T01:30:00Z"), in: berlin) == instant("2025-01-15T01:30:00Z"))
        #expect(cron.tick(atOrBefore: instant("2025-01-15T01:29:59Z"), in: berlin) == instant("2025-01-14T01:30:00Z"))
        #expect(cron.tick(atOrBefore: instant("2025-01-01T00:00:00Z"), in: berlin) == instant("2024-12-31T01:30:00Z"))
        let mondays = try CronExpression("0 9 * * MON")
        #expect(mondays.tick(atOrBefore: instant("2025-06-08T12:00:00Z"), in: utcZone) == instant("2025-06-02T09:00:00Z"))
    }

    @Test("a search that finds nothing ends with nil")
    func boundedSearch() throws {
        // February 30th, built from fields so as to get past the parser's check.
        let impossible = CronExpression(
            minutes: try CronField(parsing: "0", as: .minute), hours: try CronField(parsing: "0", as: .hour),
            daysOfMonth: try CronField(parsing: "30", as: .dayOfMonth), months: try CronField(parsing: "2", as: .month),
            daysOfWeek: try CronField(parsing: "*", as: .dayOfWeek))
        #expect(impossible.next(after: instant("2025-01-01T00:00:00Z"), in: berlin) == nil)
        #expect(impossible.tick(atOrBefore: instant("2025-01-01T00:00:00Z"), in: berlin) == nil)
        #expect(try CronExpression("* * * * *").next(after: .distantFuture, in: utcZone) != nil)
        #expect(try CronExpression("* * * * *").next(after: Date(timeIntervalSince1970: .infinity), in: utcZone) == nil)
    }
}
