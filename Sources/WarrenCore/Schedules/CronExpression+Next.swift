import Foundation

extension CronExpression {
    /// Instants further than this from 1970 (about 31,000 years) have no fires: beyond it the
    /// arithmetic would overflow.
    private static let supportedSeconds = 1e12

    /// The first time the expression fires strictly after `instant`, reading the fields as
    /// wall-clock time in `zone`.
    ///
    /// Where the zone's clocks change:
    /// - A wall-clock time that does not exist (clocks turned forward over it, as 02:30 on the
    ///   last Sunday of March in Berlin) is skipped: a daily `30 2 * * *` does not fire that day,
    ///   and an hourly `30 * * * *` has no 02:30 that day.
    /// - A wall-clock time that happens twice (clocks turned back, as 02:30 on the last Sunday of
    ///   October in Berlin) fires once, at its first occurrence. So `*/15 * * * *` does not fire
    ///   during the repeated hour's second pass.
    ///
    /// - Parameters:
    ///   - instant: The time to start after; fires at `instant` itself are not returned.
    ///   - zone: The time zone whose wall clock the fields describe, such as `Europe/Berlin`.
    /// - Returns: The next fire, always on a whole minute, or `nil` if there is none in the next
    ///   400 years (which does not happen for an expression the parser accepted).
    public func next(after instant: Date, in zone: TimeZone) -> Date? {
        let time = instant.timeIntervalSince1970
        guard abs(time) < Self.supportedSeconds else { return nil }
        let seconds = Int64(time.rounded(.down))
        // Wall-clock times before the one at `instant` have their first occurrence at or before it.
        var from = WallClock(seconds: zone.wallClockSeconds(at: seconds))
        let lastYear = from.year + Self.searchYears
        while let match = firstMatch(atOrAfter: from, throughYear: lastYear) {
            if let fire = zone.firstInstant(ofWallClock: match.seconds), Double(fire) > time {
                return Date(timeIntervalSince1970: Double(fire))
            }
            from = WallClock(seconds: match.seconds + 60)
        }
        return nil
    }

    /// The last time the expression fires at or before `instant` (the same rules as
    /// ``next(after:in:)``), or `nil` if there is none in the previous 400 years.
    func tick(atOrBefore instant: Date, in zone: TimeZone) -> Date? {
        let time = instant.timeIntervalSince1970
        guard abs(time) < Self.supportedSeconds else { return nil }
        let seconds = Int64(time.rounded(.down))
        // Just after clocks were turned back, wall-clock times later than the current one had their
        // first occurrence before `instant`: start from the latest such time.
        var from = WallClock(seconds: zone.latestWallClockSeconds(notAfter: seconds))
        let firstYear = from.year - Self.searchYears
        while let match = lastMatch(atOrBefore: from, sinceYear: firstYear) {
            if let fire = zone.firstInstant(ofWallClock: match.seconds), Double(fire) <= time {
                return Date(timeIntervalSince1970: Double(fire))
            }
            from = WallClock(seconds: match.seconds - 60)
        }
        return nil
    }
}
