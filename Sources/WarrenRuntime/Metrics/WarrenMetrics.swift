import CoreMetrics
import Prometheus
import Synchronization

/// The supervisor's metrics, for every child of every queue, in Prometheus' text format.
///
/// Recorded through swift-metrics, exported by swift-prometheus into a registry of their own (not
/// the process-wide `MetricsSystem`, so tests and embedders can hold several). Children send what
/// they did over their report pipe; the supervisor records it here, on the thread reading the
/// pipe. Names follow Prometheus' conventions (README, "Metrics"):
///
/// | metric | labels |
/// |---|---|
/// | `warren_tasks_started_total` | queue |
/// | `warren_tasks_total` | queue, task, outcome (`succeeded`, `retried`, `failed`, `requeued`) |
/// | `warren_task_duration_seconds` (histogram) | queue, task |
/// | `warren_queue_lag_seconds` (histogram) | queue |
/// | `warren_retries_total` | queue, task |
/// | `warren_dead_letters_total` | queue, reason |
/// | `warren_queue_messages`, `warren_queue_consumers` | queue (from the broker) |
/// | `warren_children`, `warren_children_ready` | queue |
/// | `warren_queue_paused` | queue: 1 while paused (`cancel_consumer`, `queue pause`), else 0 |
/// | `warren_child_restarts_total` | queue, reason (`crashed`, `killed`, `time-limit`) |
/// | `warren_child_recycles_total` | queue, reason (`max-tasks`, `max-memory`) |
/// | `warren_broker_reconnects_total` | queue |
/// | `warren_broker_up` | (none): whether the supervisor's last look at the broker worked |
/// | `warren_schedule_fires_total` | schedule: fires this supervisor published as the leader |
/// | `warren_schedule_leader` | (none): 1 while this supervisor leads the schedules, else 0 |
package final class WarrenMetrics: Sendable {
    /// Where the metrics live; ``exposition()`` renders it.
    package let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let counters = Mutex<[String: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])

    /// Buckets for task durations: 1 ms to 10 min.
    static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
        .seconds(60), .seconds(300), .seconds(600),
    ]
    /// Buckets for queue lag: finer at the low end, where a latency queue should stay.
    static let lagBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30), .seconds(60),
        .seconds(300), .seconds(1800),
    ]

    /// Empty metrics in a registry of their own.
    package init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            "warren_task_duration_seconds": Self.durationBuckets, "warren_queue_lag_seconds": Self.lagBuckets,
        ]
        self.factory = factory
    }

    /// Everything, in the Prometheus text exposition format (version 0.0.4).
    package func exposition() -> [UInt8] { registry.emitToBuffer() }

    // MARK: - What children did

    /// The task metrics of one child of `queue`, for the thread reading its reports (see
    /// ``ChildTaskMetrics``: the hot path, with no lock shared between children).
    func forChild(queue: String) -> ChildTaskMetrics { ChildTaskMetrics(metrics: self, queue: queue) }

    /// A child of `queue` took a delivery up: its handler starts now. (The supervisor records
    /// through ``forChild(queue:)``; this is for the rest.)
    func taskStarted(queue: String) { forChild(queue: queue).taskStarted() }

    /// A task whose handler ran in a child of `queue` ended.
    func taskFinished(queue: String, _ task: TaskSummary) { forChild(queue: queue).taskFinished(task) }

    /// A child of `queue` dead-lettered a message.
    func deadLettered(queue: String, reason: String) {
        counter("warren_dead_letters_total", ["queue": queue, "reason": reason]).increment()
    }

    // MARK: - What the supervisor sees

    /// A child of `queue` died and is restarted: `crashed`, `killed` or `time-limit`.
    func childRestarted(queue: String, reason: String) {
        counter("warren_child_restarts_total", ["queue": queue, "reason": reason]).increment()
    }

    /// A child of `queue` recycled itself: `max-tasks` or `max-memory`.
    func childRecycled(queue: String, reason: String) {
        counter("warren_child_recycles_total", ["queue": queue, "reason": reason]).increment()
    }

    /// A child of `queue` lost its broker connection and got it back.
    func brokerReconnected(queue: String) {
        counter("warren_broker_reconnects_total", ["queue": queue]).increment()
    }

    /// Children of `queue`: alive (processes) and ready (holding a live consumer).
    func children(queue: String, alive: Int, ready: Int, paused: Bool = false) {
        Gauge(label: "warren_children", dimensions: [("queue", queue)], factory: factory).record(alive)
        Gauge(label: "warren_children_ready", dimensions: [("queue", queue)], factory: factory).record(ready)
        Gauge(label: "warren_queue_paused", dimensions: [("queue", queue)], factory: factory).record(paused ? 1 : 0)
    }

    /// What the broker says of `queue`: messages ready and consumers.
    func queue(_ queue: String, messages: Int, consumers: Int) {
        Gauge(label: "warren_queue_messages", dimensions: [("queue", queue)], factory: factory).record(messages)
        Gauge(label: "warren_queue_consumers", dimensions: [("queue", queue)], factory: factory).record(consumers)
    }

    /// Whether the supervisor's last look at the broker worked.
    func brokerUp(_ up: Bool) {
        Gauge(label: "warren_broker_up", factory: factory).record(up ? 1 : 0)
    }

    // MARK: - Schedules

    /// This supervisor, as the leader, published a fire of `schedule`.
    func scheduleFired(schedule: String) {
        counter("warren_schedule_fires_total", ["schedule": schedule]).increment()
    }

    /// Whether this supervisor leads the schedules now.
    func scheduleLeader(_ leading: Bool) {
        Gauge(label: "warren_schedule_leader", factory: factory).record(leading ? 1 : 0)
    }

    // MARK: - Cached handles (one registry lookup per label set, not per task)

    func counter(_ name: String, _ labels: KeyValuePairs<String, String>) -> CoreMetrics.Counter {
        Self.cached(in: counters, name, labels) { CoreMetrics.Counter(label: name, dimensions: $0, factory: factory) }
    }

    func timer(_ name: String, _ labels: KeyValuePairs<String, String>) -> CoreMetrics.Timer {
        Self.cached(in: timers, name, labels) { CoreMetrics.Timer(label: name, dimensions: $0, factory: factory) }
    }

    private static func cached<Metric>(
        in cache: borrowing Mutex<[String: Metric]>, _ name: String, _ labels: KeyValuePairs<String, String>,
        make: ([(String, String)]) -> Metric
    ) -> Metric {
        let key = labels.reduce(into: name) { $0 += "\u{0}\($1.value)" }
        return cache.withLock { metrics in
            if let metric = metrics[key] { return metric }
            let metric = make(labels.map { ($0.key, $0.value) })
            metrics[key] = metric
            return metric
        }
    }
}
