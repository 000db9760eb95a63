import Foundation

/// When a periodic schedule fires: every fixed interval, or on a cron expression in a time zone.
///
/// The instants it fires at are its *ticks*. All functions are pure: the current time is always
/// a parameter.
public enum ScheduleTiming: Sendable, Hashable, CustomStringConvertible {
    /// Every fixed interval, on ticks aligned to the Unix epoch (`every: 30s`).
    case every(IntervalSchedule)
    /// On a cron expression read as wall-clock time in a time zone (`cron: "30 2 * * *"`,
    /// `timezone: Europe/Berlin`).
    case cron(CronExpression, TimeZone)

    /// `every 30.0 seconds` or `cron 30 2 * * * in Europe/Berlin`.
    public var description: String {
        switch self {
        case .every(let interval): interval.description
        case .cron(let expression, let zone): "cron \(expression) in \(zone.identifier)"
        }
    }

    /// The first tick strictly after `instant`.
    ///
    /// - Parameter instant: The time to start after; a tick at `instant` itself is not returned.
    /// - Returns: The next tick, or `nil` if a cron expression has none in the next 400 years.
    public func next(after instant: Date) -> Date? {
        switch self {
        case .every(let interval): interval.next(after: instant)
        case .cron(let expression, let zone): expression.next(after: instant, in: zone)
        }
    }

    /// The latest tick at or before `instant`: the tick that is current at `instant`.
    ///
    /// - Parameter instant: The time to look back from; a tick at `instant` itself is returned.
    /// - Returns: The tick, or `nil` if a cron expression has none in the previous 400 years.
    public func tick(atOrBefore instant: Date) -> Date? {
        switch self {
        case .every(let interval): interval.tick(atOrBefore: instant)
        case .cron(let expression, let zone): expression.tick(atOrBefore: instant, in: zone)
        }
    }

    /// The length of the tick period that contains `instant`: from the tick at or before it to
    /// the next tick. This is the default lifetime (`expires`) of a fire.
    ///
    /// For an interval it is always the interval. For cron it varies: a month for `@monthly`
    /// (28 to 31 days), 23 or 25 hours for `@daily` across a change of clocks, 47 hours for a
    /// daily `30 2 * * *` in Berlin across the day whose 02:30 does not exist.
    ///
    /// - Parameter instant: A time within the period.
    /// - Returns: The period's length, or `nil` if there is no tick before or after `instant`.
    public func period(at instant: Date) -> Duration? {
        if case .every(let interval) = self { return interval.period }
        guard let start = tick(atOrBefore: instant), let end = next(after: instant) else { return nil }
        // Cron ticks are whole minutes, so the difference is a whole number of seconds.
        return .seconds(Int64(end.timeIntervalSince(start).rounded()))
    }
}
