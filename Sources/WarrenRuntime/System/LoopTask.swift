import Synchronization

/// A task that loops until it is stopped (the scheduler's, the Celery node's): ``stop()``
/// cancels it and waits until it has ended.
final class LoopTask: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Starts `body` in a task of its own.
    func start(_ body: @escaping @Sendable () async -> Void) {
        let started = Task { await body() }
        task.withLock { $0 = started }
    }

    /// Cancels the task, if one runs, and returns once it has ended.
    func stop() async {
        let running = task.withLock { $0.take() }
        running?.cancel()
        await running?.value
    }
}
