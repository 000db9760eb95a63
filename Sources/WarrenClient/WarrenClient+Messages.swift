import WarrenCore

extension WarrenClient {
    /// Publishes a task message as it is — its own `reply_to`, if any — and returns once the broker
    /// confirmed it: fire and forget, for scripts and for messages built by hand.
    /// - Throws: as ``send(_:options:)-(TaskMessage,_)``.
    public func publish(_ message: TaskMessage) async throws {
        _ = try await sendConfirmed(message, options: TaskOptions(awaitsResult: false))
    }

    /// Sends a task message and waits for its result: ``send(_:options:)-(TaskMessage,_)`` then
    /// ``TaskHandle/result(timeout:)``, as Celery's `apply_async(...).get()`.
    /// - Returns: The handler's result (`null` for none).
    /// - Throws: `TaskFailed` when the task failed; ``WarrenClientError`` otherwise.
    public func call(_ message: TaskMessage, options: TaskOptions = TaskOptions(), timeout: Duration = .seconds(60)) async throws
        -> JSONValue
    {
        try await send(message, options: options).result(timeout: timeout)
    }
}
