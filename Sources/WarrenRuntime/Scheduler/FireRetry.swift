import Foundation

/// When to publish again a fire the broker did not confirm. The tick is recorded as fired
/// before its message goes out (so no other node fires it): a fire that is then lost would
/// skip the tick for good. Its message keeps the tick's task id, so a retry that doubles a
/// message whose confirm was lost shows as the same task twice, never as two ticks.
enum FireRetry {
    /// The first wait; each next one doubles, up to ``longest``.
    static let first = Duration.seconds(1)
    static let longest = Duration.seconds(15)

    /// The wait before attempt `attempts + 1`, or `nil` when the fire would expire first (its
    /// message would be dropped by the worker anyway).
    static func delay(afterAttempts attempts: Int, now: Date, expiresAt: Date) -> Duration? {
        let doubled = first * (1 << min(max(attempts - 1, 0), 10))
        let delay = min(doubled, longest)
        return now.addingTimeInterval(delay.seconds) < expiresAt ? delay : nil
    }
}
