import Synchronization

/// The handlers a child can cancel for `revoke(terminate=True)`, by task id, and the tasks
/// whose handlers were cancelled so (their end is `revoked`, not a failure).
///
/// Only handlers that run in a task of their own (queues with `concurrency` above 1) can be
/// cancelled alone; the supervisor kills the child for the others (docs/celery-node.md).
final class Terminations: Sendable {
    private let state = Mutex<(cancels: [String: @Sendable () -> Void], terminated: Set<String>)>(([:], []))

    /// A handler of task `id` started; `cancel` cancels it.
    func started(_ id: String, cancel: @escaping @Sendable () -> Void) {
        state.withLock { $0.cancels[id] = cancel }
    }

    /// The handler of task `id` ended: whether it was cancelled by ``terminate(_:)``.
    func ended(_ id: String) -> Bool {
        state.withLock { s in
            s.cancels[id] = nil
            return s.terminated.remove(id) != nil
        }
    }

    /// The supervisor asks to cancel task `id` (a `K` ``TaskNotice``): its handler, if one runs here.
    func terminate(_ id: String) {
        let cancel = state.withLock { s -> (@Sendable () -> Void)? in
            guard let cancel = s.cancels.removeValue(forKey: id) else { return nil }
            s.terminated.insert(id)
            return cancel
        }
        cancel?()
    }
}

/// The task a delivery runs in, so that its handler can be cancelled from outside: set right
/// after the task is made (a cancel before that cancels it as soon as it is set).
final class DeliveryTask: Sendable {
    private let state = Mutex<(task: Task<Void, Never>?, cancelled: Bool)>((nil, false))

    func set(_ task: Task<Void, Never>) {
        let cancelled = state.withLock { s -> Bool in
            s.task = task
            return s.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancel() {
        let task = state.withLock { s -> Task<Void, Never>? in
            s.cancelled = true
            return s.task
        }
        task?.cancel()
    }
}
