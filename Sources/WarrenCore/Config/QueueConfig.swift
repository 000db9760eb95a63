/// One queue, its routes and how its children consume it: an entry of the `queues` mapping.
///
/// ```yaml
/// queues:
///   slow:
///     routes: ["report.#"]
///     children: 1
///     prefetch: 1
///     time_limit: 10m
/// ```
public struct QueueConfig: Sendable, Equatable {
    /// The queue's name on the broker, which is also its key in the `queues` mapping.
    public var name: String
    /// The topic patterns of the task names this queue takes. A task goes to the first queue,
    /// in the file's order, with a pattern that matches it. Defaults to none: the queue then
    /// only gets messages published straight to it (default exchange, routing key = its name).
    public var routes: [TopicPattern]
    /// How many child processes consume this queue. Defaults to 1.
    public var children: Int
    /// How many unacknowledged messages the broker may hand to one child (`basic.qos`). Must be
    /// at least ``concurrency``. Defaults to 4 × `concurrency` (Celery's prefetch multiplier),
    /// so 4 when `concurrency` is not set.
    public var prefetch: Int
    /// How many handlers one child runs at once. Defaults to 1.
    public var concurrency: Int
    /// The soft time limit of one task: its handler is cancelled after this long, and the child
    /// is killed if the handler does not return within the grace period after it. `nil`, the
    /// default, means no limit.
    public var timeLimit: Duration?
    /// A child whose resident memory passes this after a task is replaced by a fresh one.
    /// `nil`, the default, means no limit.
    public var maxMemory: ByteSize?
    /// A child is replaced by a fresh one after this many tasks. `nil`, the default, means never.
    public var maxTasksPerChild: Int?
    /// The kind of queue to declare. Defaults to ``QueueType/classic``.
    public var type: QueueType
    /// This queue's retry policy when its `retry` block overrides the top-level one (keys it
    /// does not set are inherited), or `nil` to use the top-level policy.
    /// ``WarrenConfiguration/retryPolicy(for:)`` gives the policy that applies.
    public var retry: RetryPolicy?

    /// The default prefetch for a concurrency: 4 × `concurrency`, at most 65 535.
    public static func defaultPrefetch(concurrency: Int) -> Int {
        let (product, overflow) = concurrency.multipliedReportingOverflow(by: 4)
        return overflow ? 65_535 : min(max(product, 1), 65_535)
    }

    /// Creates a queue configuration; every argument but the name has the documented default.
    public init(
        name: String,
        routes: [TopicPattern] = [],
        children: Int = 1,
        prefetch: Int? = nil,
        concurrency: Int = 1,
        timeLimit: Duration? = nil,
        maxMemory: ByteSize? = nil,
        maxTasksPerChild: Int? = nil,
        type: QueueType = .classic,
        retry: RetryPolicy? = nil
    ) {
        self.name = name
        self.routes = routes
        self.children = children
        self.prefetch = prefetch ?? Self.defaultPrefetch(concurrency: concurrency)
        self.concurrency = concurrency
        self.timeLimit = timeLimit
        self.maxMemory = maxMemory
        self.maxTasksPerChild = maxTasksPerChild
        self.type = type
        self.retry = retry
    }
}

/// The kind of RabbitMQ queue to declare (`x-queue-type`).
public enum QueueType: String, Sendable, CaseIterable {
    /// A classic queue: the default, fastest on one node.
    case classic
    /// A quorum queue: replicated across a RabbitMQ cluster with Raft; it counts redeliveries
    /// (`x-delivery-count`), and a task redelivered 10 times is dead-lettered as `poison`
    /// whichever supervisor or host saw the earlier deliveries.
    case quorum
}
