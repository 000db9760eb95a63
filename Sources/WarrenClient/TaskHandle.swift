import WarrenCore

/// A task the broker confirmed it has; await its ``result(timeout:)`` if it was sent with one.
public struct TaskHandle<Result: Decodable & Sendable>: Sendable {
    /// The task id (Celery's `AsyncResult.id`).
    public let id: String
    /// The task name.
    public let name: String
    let client: WarrenClient?

    init(id: String, name: String, client: WarrenClient?) {
        self.id = id
        self.name = name
        self.client = client
    }

    /// Waits for the task's result, through the client's reply queue.
    ///
    /// The result is claimed by the first wait that gets it; it is kept for a while if it comes
    /// before anyone waits. A timeout ends the wait, not the task.
    /// - Throws: `TaskFailed` when the task failed or was revoked (with the error type and
    ///   message the worker reported); ``WarrenClientError`` with `timedOut`, `closed`,
    ///   `noResult` or `undecodableResult`.
    public func result(timeout: Duration = .seconds(60)) async throws -> Result {
        guard let client else {
            throw WarrenClientError(.noResult, "task \(name) [\(id)] was sent without awaiting its result")
        }
        let reply = try await client.reply(for: id, name: name, timeout: timeout)
        let value = try reply.value() ?? .null
        do {
            return try JSONValueDecoder().decode(Result.self, from: value)
        } catch {
            throw WarrenClientError(.undecodableResult, "the result of task \(name) [\(id)] does not decode into \(Result.self): \(error)")
        }
    }
}
