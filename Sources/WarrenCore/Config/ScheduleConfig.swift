import Foundation

/// One periodic schedule: an entry of the `schedules` mapping (docs/schedules.md).
///
/// ```yaml
/// schedules:
///   nightly-report:
///     task: report.nightly
///     cron: "30 2 * * *"          # or every: 30s (exactly one of the two)
///     timezone: Europe/Berlin     # IANA; cron only; default UTC
///     kwargs: {format: pdf}
///     expires: 1h                 # default: one period
/// ```
///
/// Across every supervisor that shares the broker and the exchange, one (the leader) fires each
/// tick: an ordinary Celery v2 task message published through the routes.
public struct ScheduleConfig: Sendable, Equatable {
    /// The schedule's name, its key in the `schedules` mapping. Fires carry it in the
    /// `warren-schedule` header; the broker's record of the last fired tick is kept under it.
    public var name: String
    /// The task to publish (`task`): its name, and the routing key unless ``routingKey`` or
    /// ``queue`` says otherwise.
    public var task: String
    /// When it fires (`every`, or `cron` with `timezone`).
    public var timing: ScheduleTiming
    /// Positional arguments of every fire (`args`). Defaults to none.
    public var args: [JSONValue]
    /// Keyword arguments of every fire (`kwargs`). Defaults to none.
    public var kwargs: JSONObject
    /// How long a fire may wait to be run (`expires`): after that a worker dead-letters it as
    /// `expired`. `nil`, the default, means one period (from the tick to the next one), so fires
    /// that nobody ran do not pile up.
    public var expires: Duration?
    /// Publish every fire straight to this queue (default exchange, routing key = the queue)
    /// instead of through the routes (`queue`). Defaults to `nil`.
    public var queue: String?
    /// Publish every fire to the task exchange with this routing key instead of the task name
    /// (`routing_key`). Defaults to `nil`. At most one of ``queue`` and ``routingKey`` is set.
    public var routingKey: String?

    /// Creates a schedule; every argument but the name, task and timing has the documented default.
    public init(
        name: String, task: String, timing: ScheduleTiming, args: [JSONValue] = [], kwargs: JSONObject = [:],
        expires: Duration? = nil, queue: String? = nil, routingKey: String? = nil
    ) {
        self.name = name
        self.task = task
        self.timing = timing
        self.args = args
        self.kwargs = kwargs
        self.expires = expires
        self.queue = queue
        self.routingKey = routingKey
    }

    /// Where a fire goes: the exchange (`""` for the default exchange) and the routing key.
    ///
    /// - Parameter exchange: The configuration's task exchange.
    public func destination(exchange: String) -> (exchange: String, routingKey: String) {
        if let queue { return ("", queue) }
        return (exchange, routingKey ?? task)
    }
}
