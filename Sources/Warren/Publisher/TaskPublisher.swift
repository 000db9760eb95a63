import AMQP
import Foundation
import Synchronization

/// Publishes tasks from Swift, through the routes, with publisher confirms; optionally waits
/// for their results.
///
/// A task goes to the configured exchange with routing key = its name, exactly as Celery and
/// any AMQP client would publish it, so the bindings decide its queue. ``publish(_:)`` returns
/// once the broker **confirmed** it has the message; anything else throws.
///
/// ```swift
/// let publisher = try await TaskPublisher(configuration: config)
/// let sum = try await publisher.call(TaskMessage(name: "demo.add", args: [2, 3]), timeout: .seconds(30))
/// await publisher.close()
/// ```
public final class TaskPublisher: Sendable {
    private let io: AMQPConnectionThread
    private let exchange: String
    private let replies = Mutex<ReplyState>(ReplyState())
    private let listener = Mutex<Task<Void, Never>?>(nil)

    private struct ReplyState {
        var queue: String?
        var waiters: [String: CheckedContinuation<TaskReply, any Error>] = [:]
        var early: [String: TaskReply] = [:]
    }

    static let publishChannel: UInt16 = 1
    static let replyChannel: UInt16 = 2

    /// Connects to the first broker of `configuration`.
    public init(configuration: WarrenConfiguration, name: String = "warren publisher") async throws {
        io = try await configuration.broker.connect(name: "\(name) pid \(getpid())", threadName: "amqp-publisher")
        exchange = configuration.exchange
        try await io.perform { connection throws(AMQPError) in
            _ = try connection.openChannel(Self.publishChannel)
            _ = try connection.openChannel(Self.replyChannel)
        }
    }

    /// Publishes a task and waits for the broker's confirm.
    /// - Throws: ``PublishError`` when the broker refused it; ``AMQP/AMQPError`` when the
    ///   connection failed before the confirm (the task may or may not have been published).
    public func publish(_ task: TaskMessage) async throws {
        let message = task.encoded()
        let outcome = try await io.publish(
            message.body, exchange: exchange, routingKey: task.name, properties: message.properties, on: Self.publishChannel)
        switch outcome {
        case .acked: return
        case .nacked: throw PublishError("the broker refused task \(task.name) [\(task.id)] (basic.nack)")
        case .returned(let r): throw PublishError("task \(task.name) [\(task.id)] was returned: \(r.replyText)")
        }
    }

    /// Publishes a task with this publisher as its `reply_to` and waits for the result.
    /// - Returns: The handler's result.
    /// - Throws: ``TaskFailed`` when the task failed (with the error type and message the
    ///   worker reported), ``PublishError`` when it timed out or could not be published.
    public func call(_ task: TaskMessage, timeout: Duration = .seconds(60)) async throws -> JSONValue {
        var task = task
        task.replyTo = try await replyQueue()
        task.ignoreResult = false
        let id = task.id
        let name = task.name
        let reply = try await withThrowingTaskGroup(of: TaskReply?.self) { group in
            group.addTask { [self] in
                try await withCheckedThrowingContinuation { continuation in
                    let early = replies.withLock { state -> TaskReply? in
                        if let r = state.early.removeValue(forKey: id) { return r }
                        state.waiters[id] = continuation
                        return nil
                    }
                    if let early { continuation.resume(returning: early) }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            do {
                try await publish(task)
            } catch {
                replies.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: error)
                group.cancelAll()
                throw error
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else {
                replies.withLock { $0.waiters.removeValue(forKey: id) }?
                    .resume(throwing: PublishError("timed out"))
                throw PublishError("no result for \(name) [\(id)] within \(timeout.humanReadable)")
            }
            return first
        }
        return try reply.value() ?? .null
    }

    /// Closes the connection.
    public func close() async {
        listener.withLock { $0?.cancel() }
        await io.close()
        let waiters = replies.withLock { state in
            defer { state.waiters = [:] }
            return state.waiters
        }
        for (_, w) in waiters { w.resume(throwing: PublishError("the publisher was closed")) }
    }

    /// Declares this publisher's reply queue (exclusive, server-named) on first use and starts
    /// routing replies to their callers.
    private func replyQueue() async throws -> String {
        if let queue = replies.withLock({ $0.queue }) { return queue }
        let queue = try await io.perform { connection throws(AMQPError) in
            let channel = try connection.channel(Self.replyChannel)
            let name = try channel.declareQueue("", durable: false, exclusive: true, autoDelete: true).name
            try channel.consume(queue: name, noAck: true)
            return name
        }
        replies.withLock { $0.queue = queue }
        let task = Task { [self] in
            for await event in io.events {
                guard case .delivery(let delivery) = event,
                    let reply = try? TaskReply.decode(properties: delivery.properties, body: delivery.body),
                    reply.state.isReady
                else { continue }
                let id = delivery.properties.correlationID ?? reply.taskID
                let waiter = replies.withLock { state -> CheckedContinuation<TaskReply, any Error>? in
                    if let w = state.waiters.removeValue(forKey: id) { return w }
                    state.early[id] = reply
                    return nil
                }
                waiter?.resume(returning: reply)
            }
        }
        listener.withLock { $0 = task }
        return queue
    }
}

/// A task that could not be published, or whose result did not come.
public struct PublishError: Error, Sendable, CustomStringConvertible {
    /// What happened.
    public var description: String
    init(_ description: String) { self.description = description }
}
