/// Everything a Warren worker reads from its YAML file, with every default applied.
///
/// Load it with ``ConfigLoader``, which refuses a wrong file with a ``ConfigurationError`` that
/// lists every problem. Only `queues` is required; see `Config/warren.yaml` for an example
/// that explains each key. ``describe()`` prints every resolved value.
public struct WarrenConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// The file this configuration was read from, or `nil` when it was built in code.
    public var source: String?
    /// How to reach RabbitMQ (`broker`).
    public var broker: BrokerConfig
    /// The topic exchange that publishers send tasks to, routing key = task name (`exchange`).
    /// Defaults to `warren`.
    public var exchange: String
    /// The queues, in the order of the file: a task goes to the first one whose route matches
    /// it (`queues`). Required, at least one.
    public var queues: [QueueConfig]
    /// The retry policy of every queue that does not override it (`retry`).
    public var retry: RetryPolicy
    /// Where messages go that failed for good (`dead_letter.queue`). Defaults to `warren.dead`.
    public var deadLetterQueue: String
    /// Where the exchange's alternate exchange sends messages whose task name no binding knows
    /// (`unrouted.queue`). Defaults to `warren.unrouted`.
    public var unroutedQueue: String
    /// The Prometheus endpoint (`metrics`).
    public var metrics: MetricsConfig
    /// Logging (`log`).
    public var log: LogConfig
    /// How long a warm shutdown may take: children finish their tasks, then are killed and their
    /// unacknowledged messages go back to the broker (`shutdown_timeout`). Defaults to 60 seconds.
    public var shutdownTimeout: Duration
    /// The largest message body published or accepted (`max_message_size`). Defaults to 16 MiB.
    public var maxMessageSize: ByteSize
    /// The periodic schedules, in the order of the file (`schedules`). Defaults to none.
    public var schedules: [ScheduleConfig]
    /// The name of this supervisor as a Celery node (`node_name`); `nil`, the default, means
    /// `warren@<hostname>` (see ``resolvedNodeName(hostname:)``).
    public var nodeName: String?
    /// Remote control, Celery's pidbox (`control`).
    public var control: ControlConfig
    /// Whether task events flow from the start (`events`). Defaults to `false`; Celery's
    /// `enable_events` turns them on at run time.
    public var events: Bool

    /// The default exchange name.
    public static let defaultExchange = "warren"
    /// The default dead-letter queue name.
    public static let defaultDeadLetterQueue = "warren.dead"
    /// The default queue for messages no route takes.
    public static let defaultUnroutedQueue = "warren.unrouted"

    /// Creates a configuration; every argument but the queues has the documented default.
    ///
    /// Nothing is checked here; call ``validate()`` (``ConfigLoader`` does).
    public init(
        source: String? = nil,
        broker: BrokerConfig = BrokerConfig(),
        exchange: String = WarrenConfiguration.defaultExchange,
        queues: [QueueConfig],
        retry: RetryPolicy = RetryPolicy(),
        deadLetterQueue: String = WarrenConfiguration.defaultDeadLetterQueue,
        unroutedQueue: String = WarrenConfiguration.defaultUnroutedQueue,
        metrics: MetricsConfig = MetricsConfig(),
        log: LogConfig = LogConfig(),
        shutdownTimeout: Duration = .seconds(60),
        maxMessageSize: ByteSize = .mebibytes(16),
        schedules: [ScheduleConfig] = [],
        nodeName: String? = nil,
        control: ControlConfig = ControlConfig(),
        events: Bool = false
    ) {
        self.source = source
        self.broker = broker
        self.exchange = exchange
        self.queues = queues
        self.retry = retry
        self.deadLetterQueue = deadLetterQueue
        self.unroutedQueue = unroutedQueue
        self.metrics = metrics
        self.log = log
        self.shutdownTimeout = shutdownTimeout
        self.maxMessageSize = maxMessageSize
        self.schedules = schedules
        self.nodeName = nodeName
        self.control = control
        self.events = events
    }

    /// The schedule named `name`, if the configuration has one.
    public func schedule(named name: String) -> ScheduleConfig? {
        schedules.first { $0.name == name }
    }

    /// The queue named `name`, if the configuration has one.
    public func queue(named name: String) -> QueueConfig? {
        queues.first { $0.name == name }
    }

    /// The retry policy that applies to `queue`: its own, else the top-level one.
    public func retryPolicy(for queue: QueueConfig) -> RetryPolicy {
        queue.retry ?? retry
    }

    /// Resolves the routes of ``queues`` for the task names a binary registers.
    ///
    /// - Parameter taskNames: The registered task names.
    /// - Returns: Which queue each task goes to, and which tasks no route takes.
    package func routeTable(forTasks taskNames: some Sequence<String>) -> RouteTable {
        RouteTable(queues: queues, taskNames: taskNames)
    }

    /// ``describe()``.
    public var description: String { describe() }
}
