import Foundation
import Synchronization
import WarrenCore

/// A worker binary: register task handlers by name, then hand control to Warren's command line.
///
/// ```swift
/// import Warren
///
/// struct EmailJob: Codable, Sendable { var to: String; var subject: String }
///
/// let worker = Worker()
/// worker.register("email.send") { (job: EmailJob, ctx: TaskContext) in
///     ctx.logger.info("sending", metadata: ["to": "\(job.to)"])
///     return "sent"
/// }
/// await worker.main()   // run, publish, check-config
/// ```
///
/// Arguments decode from the task's kwargs (and positional args, see `PositionalArguments`);
/// the returned value goes back to a caller waiting for the result (Python's `AsyncResult.get()`
/// included). A handler that throws is retried per the queue's retry policy; throw
/// ``TaskError/fail(_:)`` to fail at once, ``TaskError/retry(after:_:)`` to choose the delay.
public final class Worker: Sendable {
    /// The registered handlers.
    package let registry = TaskRegistry()
    /// The binary's name, for logs and `--help`.
    public let name: String

    /// A worker named after its executable.
    public init(name: String = ProcessInfo.processInfo.processName) {
        self.name = name
    }

    /// Registers a handler whose arguments decode into `Arguments` and whose result encodes to JSON.
    /// - Parameters:
    ///   - task: The task name publishers use as routing key, e.g. `email.send`.
    ///   - argumentNames: Names for positional `args`, in order (like a Python signature), when
    ///     `Arguments` does not conform to `PositionalArguments`.
    ///   - handler: The work; it may be `async` and may throw.
    public func register<Arguments: Decodable & Sendable, Result: Encodable & Sendable>(
        _ task: String, argumentNames: [String]? = nil,
        _ handler: @escaping @Sendable (Arguments, TaskContext) async throws -> Result
    ) {
        registry.register(task) { message, context in
            let arguments = try TaskArguments.decode(
                Arguments.self, args: message.args, kwargs: message.kwargs, argumentNames: argumentNames)
            let result = try await handler(arguments, context)
            return try JSONValueEncoder().encode(result)
        }
    }

    /// Registers a handler that returns nothing (its callers get `null`).
    public func register<Arguments: Decodable & Sendable>(
        _ task: String, argumentNames: [String]? = nil,
        _ handler: @escaping @Sendable (Arguments, TaskContext) async throws -> Void
    ) {
        registry.register(task) { message, context in
            let arguments = try TaskArguments.decode(
                Arguments.self, args: message.args, kwargs: message.kwargs, argumentNames: argumentNames)
            try await handler(arguments, context)
            return .null
        }
    }

    /// Registers the handler of a typed task, the same `TaskDefinition` an application sends
    /// with `WarrenClient`: its arguments decode into `Task`, its result is `Task.Result`.
    ///
    /// ```swift
    /// worker.register(SendEmail.self) { job, ctx in try await mailer.send(to: job.to) }
    /// ```
    public func register<Task: TaskDefinition>(
        _ task: Task.Type, _ handler: @escaping @Sendable (Task, TaskContext) async throws -> Task.Result
    ) {
        registry.register(Task.name) { message, context in
            let job = try Task(from: message)
            return try JSONValueEncoder().encode(try await handler(job, context))
        }
    }

    /// Registers a handler that takes no arguments.
    public func register<Result: Encodable & Sendable>(
        _ task: String, _ handler: @escaping @Sendable (TaskContext) async throws -> Result
    ) {
        registry.register(task) { _, context in
            let result = try await handler(context)
            return try JSONValueEncoder().encode(result)
        }
    }
}
