import Foundation

/// What the leader of a schedule should do now: fire one tick or none, and when to look again.
///
/// This is the whole decision, as a value: the scheduler reads the clock and the broker, builds
/// a plan, publishes ``fire`` if there is one (recording it as the last fired tick), and sleeps
/// until ``wakeAt``. The rules:
///
/// - A tick is due at its instant, not before; the plan only ever fires the *latest* due tick.
///   After a gap (the leader died, the broker was down) the ticks missed in between are not
///   caught up one by one: at most one fire follows, for the most recent tick. On a failover of
///   up to 10 s this skips at most one tick of a short schedule (`every: 5s`), by design.
/// - A tick at or before the last fired tick is never fired again, so a failover does not
///   repeat a fire. This holds when the last fired tick is in the future (another node's clock
///   was ahead): nothing fires until the clock has passed it.
/// - A tick older than its lifetime (`expires`, by default the period from it to the next
///   tick) is not fired: its message would expire on arrival. With the default the latest due
///   tick is always younger than its period, so only a shorter `expires` drops one.
/// - With no last fired tick (a new schedule, or the broker lost the record), a tick that was
///   already due when this node started leading is fired only if it had been due for less than
///   ``startupGrace`` (or one period, if shorter) at that moment. Without a record, the node
///   cannot tell whether someone fired that tick; firing an old tick would also make every
///   deployment of a new schedule fire at once, running a `30 2 * * *` report at 14:00 because
///   it was deployed then. The grace still catches a tick that came due while the node was
///   starting. Ticks that come due while the node leads are fired normally.
public struct FirePlan: Sendable, Hashable {
    /// A tick to fire now.
    public struct Fire: Sendable, Hashable {
        /// The tick: the instant this fire stands for (an epoch-aligned tick or a cron time).
        /// Record it as the last fired tick.
        public let tick: Date
        /// When the fire's message expires: the tick plus its lifetime (`expires`, by default
        /// the period to the next tick).
        public let expiresAt: Date
    }

    /// How long after a node starts leading a schedule with no record of its last fire a tick
    /// that became due before then may still be fired: ten seconds (or one period, if shorter).
    public static let startupGrace: Duration = .seconds(10)

    /// The tick to fire now, or `nil` to fire nothing.
    public let fire: Fire?
    /// When to build the next plan: the first tick after both `now` and the last fired tick.
    /// `nil` if there is no later tick (a cron expression with none in 400 years).
    public let wakeAt: Date?

    /// Decides what to fire at `now`.
    ///
    /// - Parameters:
    ///   - timing: When the schedule fires.
    ///   - now: The current time, from the node's clock.
    ///   - lastFired: The last tick fired by any node, as recorded on the broker (or by this node
    ///     since), or `nil` when none is known. It may be in the future if a clock is off.
    ///   - leadingSince: When this node started leading this schedule: when it became leader, or
    ///     when the schedule appeared in its configuration, whichever is later. Pass `now` on the
    ///     first plan after either; keep passing that same instant on later plans.
    ///   - expires: The lifetime of a fire (the schedule's `expires`); `nil` for the default, the
    ///     period from the tick to the next one.
    public init(timing: ScheduleTiming, now: Date, lastFired: Date?, leadingSince: Date, expires: Duration? = nil) {
        let notBefore = lastFired.map { max($0, now) } ?? now
        wakeAt = timing.next(after: notBefore)
        fire = Self.tickToFire(
            timing: timing, now: now, lastFired: lastFired, leadingSince: leadingSince, expires: expires)
    }

    /// The latest due tick if the rules allow firing it, with its expiry.
    private static func tickToFire(
        timing: ScheduleTiming, now: Date, lastFired: Date?, leadingSince: Date, expires: Duration?
    ) -> Fire? {
        guard let due = timing.tick(atOrBefore: now) else { return nil }
        if let lastFired, due <= lastFired { return nil }
        let period = timing.period(at: due)
        let expiresAt = (expires ?? period).map { due.addingTimeInterval($0.timeInterval) } ?? .distantFuture
        guard now < expiresAt else { return nil }
        if lastFired == nil {
            let grace = min(period ?? startupGrace, startupGrace)
            guard due > leadingSince.addingTimeInterval(-grace.timeInterval) else { return nil }
        }
        return Fire(tick: due, expiresAt: expiresAt)
    }
}

extension Duration {
    /// This duration in seconds, as `Date` arithmetic takes it.
    fileprivate var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
