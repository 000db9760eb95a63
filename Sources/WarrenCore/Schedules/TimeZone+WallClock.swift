import Foundation

extension TimeZone {
    /// The largest distance from a wall-clock time to the instants it can stand for: no zone's
    /// offset from UTC exceeds 14 hours.
    private static let offsetReach: Int64 = 14 * 3_600

    /// The zone's offset from UTC, in seconds, at `seconds` since 1970-01-01 00:00 UTC.
    private func offset(at seconds: Int64) -> Int64 {
        Int64(secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
    }

    /// The wall-clock time of this zone at `seconds` since 1970-01-01 00:00 UTC, as seconds since
    /// 1970-01-01 00:00 on the wall clock.
    func wallClockSeconds(at seconds: Int64) -> Int64 {
        seconds + offset(at: seconds)
    }

    /// The latest wall-clock time (as seconds) whose first occurrence can be at or before
    /// `seconds`: the wall clock at `seconds`, or later when the clock was turned back in the
    /// last 14 hours (in the repeated hour, the wall clock reads earlier than the first pass did).
    func latestWallClockSeconds(notAfter seconds: Int64) -> Int64 {
        seconds + max(offset(at: seconds), offset(at: seconds - Self.offsetReach))
    }

    /// The first instant (seconds since 1970-01-01 00:00 UTC) at which this zone's clocks show
    /// `wallClock` (seconds since 1970-01-01 00:00 on the wall clock).
    ///
    /// - Returns: The earlier instant when the clocks show that time twice (they were turned
    ///   back), and `nil` when they never show it (they were turned forward over it).
    func firstInstant(ofWallClock wallClock: Int64) -> Int64? {
        // An instant showing `wallClock` lies within 14 hours of it; the zone's offsets in that
        // window are found at its two ends and its middle (zones change offset at most once in
        // 14 hours). Each offset gives one candidate instant, valid if the zone has that offset then.
        var first: Int64?
        var tried: [Int64] = []
        for probe in [wallClock - Self.offsetReach, wallClock, wallClock + Self.offsetReach] {
            let candidateOffset = offset(at: probe)
            guard !tried.contains(candidateOffset) else { continue }
            tried.append(candidateOffset)
            let instant = wallClock - candidateOffset
            if offset(at: instant) == candidateOffset, first.map({ instant < $0 }) ?? true {
                first = instant
            }
        }
        return first
    }
}
