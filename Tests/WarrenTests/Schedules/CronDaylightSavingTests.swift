import Foundation
import Testing

@testable import WarrenCore

/// Clock changes in 2025:
/// - Berlin: 30 March at 01:00Z, 02:00 CET -> 03:00 CEST (02:00-02:59 does not exist);
///   26 October at 01:00Z, 03:00 CEST -> 02:00 CET (02:00-02:59 happens twice).
/// - New York: 9 March at 07:00Z, 02:00 EST -> 03:00 EDT (02:00-02:59 does not exist);
///   2 November at 06:00Z, 02:00 EDT -> 01:00 EST (01:00-01:59 happens twice).
@Suite("Cron expressions: clock changes")
struct CronDaylightSavingTests {
    @Test("Berlin, spring: a daily 02:30 does not fire on the day without 02:30")
    func berlinSpringDaily() throws {
        let cron = try CronExpression("30 2 * * *")
        let fires = cron.fires(after: instant("2025-03-28T12:00:00Z"), through: instant("2025-04-01T12:00:00Z"), in: berlin)
        #expect(
            fires == [
                instant("2025-03-29T01:30:00Z"),  // 02:30 CET
                instant("2025-03-31T00:30:00Z"),  // 02:30 CEST; none on the 30th
                instant("2025-04-01T00:30:00Z"),
            ])
    }

    @Test("Berlin, spring: an hourly :30 has no 02:30 that day")
    func berlinSpringHourly() throws {
        let cron = try CronExpression("30 * * * *")
        let fires = cron.fires(after: instant("2025-03-29T23:00:00Z"), through: instant("2025-03-30T03:00:00Z"), in: berlin)
        #expect(
            fires == [
                instant("2025-03-29T23:30:00Z"),  // 00:30 CET
                instant("2025-03-30T00:30:00Z"),  // 01:30 CET
                instant("2025-03-30T01:30:00Z"),  // 03:30 CEST
                instant("2025-03-30T02:30:00Z"),  // 04:30 CEST
            ])
    }

    @Test("Berlin, autumn: a daily 02:30 fires once, at the first 02:30")
    func berlinAutumnDaily() throws {
        let cron = try CronExpression("30 2 * * *")
        let fires = cron.fires(after: instant("2025-10-25T12:00:00Z"), through: instant("2025-10-27T12:00:00Z"), in: berlin)
        #expect(
            fires == [
                instant("2025-10-26T00:30:00Z"),  // 02:30 CEST, not 01:30Z (02:30 CET)
                instant("2025-10-27T01:30:00Z"),  // 02:30 CET
            ])
    }

    @Test("Berlin, autumn: an hourly :30 fires once for the repeated hour")
    func berlinAutumnHourly() throws {
        let cron = try CronExpression("30 * * * *")
        let fires = cron.fires(after: instant("2025-10-25T22:00:00Z"), through: instant("2025-10-26T03:00:00Z"), in: berlin)
        #expect(
            fires == [
                instant("2025-10-25T22:30:00Z"),  // 00:30 CEST
                instant("2025-10-25T23:30:00Z"),  // 01:30 CEST
                instant("2025-10-26T00:30:00Z"),  // 02:30 CEST (the first 02:30)
                instant("2025-10-26T02:30:00Z"),  // 03:30 CET; the second 02:30 (01:30Z) does not fire
            ])
        // From inside the second pass of the repeated hour, the next fire is 03:30 CET.
        #expect(cron.next(after: instant("2025-10-26T01:10:00Z"), in: berlin) == instant("2025-10-26T02:30:00Z"))
        // And the current tick is the first 02:30, not the second.
        #expect(cron.tick(atOrBefore: instant("2025-10-26T01:45:00Z"), in: berlin) == instant("2025-10-26T00:30:00Z"))
        let everyMinute = try CronExpression("* * * * *")
        #expect(everyMinute.tick(atOrBefore: instant("2025-10-26T01:10:30Z"), in: berlin) == instant("2025-10-26T00:59:00Z"))
    }

    @Test("New York, spring: a daily 02:30 does not fire on the day without 02:30; hourly skips it")
    func newYorkSpring() throws {
        let daily = try CronExpression("30 2 * * *")
        let dailyFires = daily.fires(after: instant("2025-03-08T12:00:00Z"), through: instant("2025-03-10T12:00:00Z"), in: newYork)
        #expect(dailyFires == [instant("2025-03-10T06:30:00Z")])  // 02:30 EDT on the 10th
        let hourly = try CronExpression("30 * * * *")
        // 01:30 EST -> 03:30 EDT
        #expect(hourly.next(after: instant("2025-03-09T06:30:00Z"), in: newYork) == instant("2025-03-09T07:30:00Z"))
    }

    @Test("New York, autumn: 01:30 fires once, at the first 01:30; 02:30 is not repeated")
    func newYorkAutumn() throws {
        let daily = try CronExpression("30 1 * * *")
        let fires = daily.fires(after: instant("2025-11-01T12:00:00Z"), through: instant("2025-11-03T12:00:00Z"), in: newYork)
        #expect(fires == [instant("2025-11-02T05:30:00Z"), instant("2025-11-03T06:30:00Z")])  // 01:30 EDT, then 01:30 EST
        let hourly = try CronExpression("30 * * * *")
        #expect(hourly.next(after: instant("2025-11-02T05:30:00Z"), in: newYork) == instant("2025-11-02T07:30:00Z"))  // 02:30 EST
        let daily230 = try CronExpression("30 2 * * *")
        #expect(daily230.next(after: instant("2025-11-01T12:00:00Z"), in: newYork) == instant("2025-11-02T07:30:00Z"))
    }

    /// Compares chained `next` with a minute-by-minute scan through Foundation's `Calendar`, across
    /// every clock change of 2025 in both zones.
    @Test(
        "agrees with a minute-by-minute scan across clock changes",
        arguments: [
            ("Europe/Berlin", "2025-03-29T12:00:00Z"), ("Europe/Berlin", "2025-10-25T12:00:00Z"),
            ("America/New_York", "2025-03-08T18:00:00Z"), ("America/New_York", "2025-11-01T18:00:00Z"),
        ])
    func referenceScan(identifier: String, start: String) throws {
        let tz = zone(identifier)
        let from = instant(start)
        let to = from.addingTimeInterval(36 * 3_600)
        for text in ["30 2 * * *", "30 1 * * *", "30 * * * *", "*/20 * * * *", "0,30 1-3 * * SUN"] {
            let cron = try CronExpression(text)
            let expected = ReferenceScan(cron: cron, zone: tz).fires(after: from, through: to)
            #expect(cron.fires(after: from, through: to, in: tz) == expected, "\(text) in \(identifier)")
            // The current tick at each minute is the last fire at or before it.
            var minute = from
            while minute < to {
                let last = expected.last(where: { $0 <= minute })
                if let last { #expect(cron.tick(atOrBefore: minute, in: tz) == last, "\(text) at \(minute)") }
                minute = minute.addingTimeInterval(420)
            }
        }
    }
}

/// The obvious, slow way: look at every minute's wall clock through `Calendar`, and keep the
/// matching minutes whose wall-clock time was not already shown an hour earlier.
private struct ReferenceScan {
    let cron: CronExpression
    let zone: TimeZone

    func fires(after start: Date, through end: Date) -> [Date] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var fires: [Date] = []
        var minute = Date(timeIntervalSince1970: (start.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        while minute <= end {
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: minute)
            let hourEarlier = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: minute.addingTimeInterval(-3_600))
            let repeated =
                hourEarlier.year == parts.year && hourEarlier.month == parts.month && hourEarlier.day == parts.day
                && hourEarlier.hour == parts.hour && hourEarlier.minute == parts.minute
            if !repeated, matches(parts) { fires.append(minute) }
            minute = minute.addingTimeInterval(60)
        }
        return fires
    }

    private func matches(_ parts: DateComponents) -> Bool {
        guard let minute = parts.minute, let hour = parts.hour, let day = parts.day, let month = parts.month,
            let weekday = parts.weekday
        else { return false }
        let dayOfMonth = cron.daysOfMonth.contains(day)
        let dayOfWeek = cron.daysOfWeek.contains(weekday - 1)  // Calendar: 1 is Sunday
        let dayMatches =
            cron.daysOfMonth.startsWithStar || cron.daysOfWeek.startsWithStar
            ? dayOfMonth && dayOfWeek : dayOfMonth || dayOfWeek
        return cron.minutes.contains(minute) && cron.hours.contains(hour) && cron.months.contains(month) && dayMatches
    }
}
