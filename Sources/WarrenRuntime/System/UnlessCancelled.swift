import Synchronization

/// Runs `operation` in a task of its own and returns its result, or throws `CancellationError`
/// as soon as the caller is cancelled, without waiting for `operation` to end.
///
/// For work that does not notice cancellation, such as opening an AMQP connection (a blocking
/// connect on a thread of its own, up to its connect timeout): a warm shutdown must not wait
/// for a broker that does not answer. A result that arrives after the caller gave up is handed
/// to `abandoned` (to close a connection nobody will use).
func unlessCancelled<T: Sendable>(
    _ operation: @escaping @Sendable () async throws -> T, abandoned: @escaping @Sendable (T) async -> Void
) async throws -> T {
    try Task.checkCancellation()
    let waiter = Waiter<T>()
    let outcome: Result<T, any Error> = await withTaskCancellationHandler {
        await withCheckedContinuation { continuation in
            waiter.slot.withLock { $0 = continuation }
            Task {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                if let continuation = waiter.slot.withLock({ $0.take() }) {
                    continuation.resume(returning: result)
                } else if case .success(let value) = result {
                    await abandoned(value)
                }
            }
            // Cancelled before the continuation was stored: the handler below found nothing to resume.
            if Task.isCancelled, let continuation = waiter.slot.withLock({ $0.take() }) {
                continuation.resume(returning: .failure(CancellationError()))
            }
        }
    } onCancel: {
        waiter.slot.withLock { $0.take() }?.resume(returning: .failure(CancellationError()))
    }
    return try outcome.get()
}

/// The caller's continuation, taken by whichever comes first: the result or the cancellation.
private final class Waiter<T: Sendable>: Sendable {
    let slot = Mutex<CheckedContinuation<Result<T, any Error>, Never>?>(nil)
}
