/// How a task whose handler ran ended, as counted by `warren_tasks_total{outcome}`.
enum TaskOutcome: String, Sendable, CaseIterable {
    /// The handler returned; the message was acked.
    case succeeded
    /// The handler failed and the task was scheduled to run again (in a wait queue).
    case retried
    /// The handler failed for the last time (or must not be retried): dead-lettered.
    case failed
    /// The outcome could not be made safe with the broker: the message went back to its queue.
    case requeued
    /// The handler was cancelled by `revoke(terminate=True)`: acked, its caller told `REVOKED`.
    case revoked
}

/// One task whose handler ran, as a child tells its supervisor for the metrics.
struct TaskSummary: Sendable, Equatable {
    var id: String
    var name: String
    var outcome: TaskOutcome
    /// How long the handler ran, in seconds.
    var duration: Double
    /// How long the message waited before its handler started, in seconds (``QueueLag``); nil
    /// when it carries no publish time.
    var lag: Double?
}
