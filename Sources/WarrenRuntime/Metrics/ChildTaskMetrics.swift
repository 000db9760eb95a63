import CoreMetrics
import Synchronization

/// One child's task metrics, recorded on the thread that reads its reports.
///
/// Each child has its own, with the handles it needs resolved once (per task name on first
/// sight): recording a task touches only this object's lock, which nobody else takes, and the
/// metrics' own atomics. Recording through ``WarrenMetrics``' shared cache instead had every
/// child's reader thread take one lock for each report: with 100 children that lock was
/// contended, and Linux's priority-inheritance futex behind Swift's `Mutex` made the supervisor
/// spend ~70 µs of CPU per task (35 % of a core at 5,000 tasks/s), mostly waiting in the kernel.
final class ChildTaskMetrics: Sendable {
    private struct PerTask {
        var outcomes: [TaskOutcome: CoreMetrics.Counter] = [:]
        let duration: CoreMetrics.Timer
        var retries: CoreMetrics.Counter?
    }

    private let metrics: WarrenMetrics
    private let queue: String
    private let started: CoreMetrics.Counter
    private let lag: CoreMetrics.Timer
    private let tasks = Mutex<[String: PerTask]>([:])

    init(metrics: WarrenMetrics, queue: String) {
        self.metrics = metrics
        self.queue = queue
        started = metrics.counter("warren_tasks_started_total", ["queue": queue])
        lag = metrics.timer("warren_queue_lag_seconds", ["queue": queue])
    }

    /// A handler started.
    func taskStarted() { started.increment() }

    /// A task whose handler ran ended.
    func taskFinished(_ task: TaskSummary) {
        let (outcome, duration, retries) = tasks.withLock { tasks -> (CoreMetrics.Counter, CoreMetrics.Timer, CoreMetrics.Counter?) in
            var entry =
                tasks[task.name] ?? PerTask(duration: metrics.timer("warren_task_duration_seconds", ["queue": queue, "task": task.name]))
            let outcome =
                entry.outcomes[task.outcome]
                ?? metrics.counter("warren_tasks_total", ["queue": queue, "task": task.name, "outcome": task.outcome.rawValue])
            entry.outcomes[task.outcome] = outcome
            if task.outcome == .retried && entry.retries == nil {
                entry.retries = metrics.counter("warren_retries_total", ["queue": queue, "task": task.name])
            }
            tasks[task.name] = entry
            return (outcome, entry.duration, task.outcome == .retried ? entry.retries : nil)
        }
        outcome.increment()
        duration.recordNanoseconds(Int64((task.duration * 1e9).rounded()))
        if let lag = task.lag { self.lag.recordNanoseconds(Int64((lag * 1e9).rounded())) }
        retries?.increment()
    }

    /// A message was dead-lettered (rare: through the shared cache).
    func deadLettered(reason: String) { metrics.deadLettered(queue: queue, reason: reason) }
}
