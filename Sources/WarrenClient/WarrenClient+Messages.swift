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

extension WarrenClient {
    /// Sends a chain: each step runs once the one before it succeeded, with that result first in
    /// its args (unless the step is immutable), on whichever worker its route, queue or exchange
    /// names — Warren's or Celery's. Every step is frozen with a task id and this client's reply
    /// queue, as Celery's `chain(...).apply_async()` does.
    ///
    /// - Parameters:
    ///   - steps: The steps, first to run first; at least one.
    ///   - options: Options of the first step (the others carry their own in their `options`).
    /// - Returns: The handle of the **last** step: its result is the chain's; a step that fails
    ///   for good fails it, with that step's error.
    /// - Throws: as ``send(_:options:)-(TaskMessage,_)``; `invalidTask` for an empty chain.
    public func chain(_ steps: [TaskSignature], options: TaskOptions = TaskOptions()) async throws -> TaskHandle<JSONValue> {
        guard var first = steps.first else { throw WarrenClientError(.invalidTask, "a chain needs at least one step") }
        var rest = Array(steps.dropFirst())
        for index in rest.indices {
            if rest[index].id == nil { rest[index].id = TaskMessage.newID() }
            if options.awaitsResult, rest[index].replyTo == nil { rest[index].replyTo = replyQueue }
        }
        if first.id == nil { first.id = options.taskID ?? TaskMessage.newID() }
        var message = TaskMessage(name: first.task, id: first.id!, args: first.args, kwargs: first.kwargs)
        // Celery stores the rest of a chain last step first: the next one is popped off the end.
        if !rest.isEmpty {
            var embed = message.embed.objectValue ?? [:]
            embed["chain"] = .array(rest.reversed().map(\.json))
            message.embed = .object(embed)
        }
        let sent = try await sendConfirmed(message, options: options)
        let last = rest.last.map { ($0.id!, $0.task) } ?? (sent.id, sent.name)
        return TaskHandle(id: last.0, name: last.1, client: sent.wantsReply ? self : nil)
    }

    /// A handle for a task whose result comes to this client's reply queue (``replyQueue``): a
    /// callback or chain step sent with this client's queue as its `reply_to`.
    public func handle<Result: Decodable & Sendable>(forTask id: String, name: String, as type: Result.Type = JSONValue.self)
        -> TaskHandle<Result>
    {
        TaskHandle(id: id, name: name, client: self)
    }
}
