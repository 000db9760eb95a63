import AMQP
import WarrenCore
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
    private let broker: BrokerConfig
    private let connectionName: String
    private let exchange: String
    /// How long ``publish(_:)`` keeps trying to reconnect before it throws.
    public let reconnectPatience: Duration
    private let link: Mutex<Link>
    private let replies = Mutex<ReplyState>(ReplyState())
    private let listener = Mutex<Task<Void, Never>?>(nil)

    /// The connection in use, or the reconnection under way.
    private struct Link {
        var io: AMQPConnectionThread?
        var connecting: Task<AMQPConnectionThread, any Error>?
        /// Where the next connection attempt starts in the URL list: after the node that failed.
        var nextURL = 0
        var closed = false
    }

    private struct ReplyState {
        var queue: String?
        /// The connection the reply queue lives on (exclusive: it dies with it).
        var io: AMQPConnectionThread?
        /// Callers waiting for a result, by task id, with the connection their reply queue is on.
        var waiters: [String: (io: ObjectIdentifier, continuation: CheckedContinuation<TaskReply, any Error>)] = [:]
        var early: [String: TaskReply] = [:]
    }

    static let publishChannel: UInt16 = 1
    static let replyChannel: UInt16 = 2

    /// Connects to the first broker of `configuration` that answers.
    /// - Parameters:
    ///   - name: The connection name the broker shows (the pid is added).
    ///   - reconnectPatience: Once the connection is lost, how long a ``publish(_:)`` keeps
    ///     trying to reach a broker (100 ms doubling to 5 s between attempts) before it throws.
    ///     Defaults to 30 seconds.
    /// - Throws: ``AMQP/AMQPError`` when no broker answers now.
    public init(configuration: WarrenConfiguration, name: String = "warren publisher", reconnectPatience: Duration = .seconds(30))
        async throws
    {
        broker = configuration.broker
        connectionName = "\(name) pid \(getpid())"
        exchange = configuration.exchange
        self.reconnectPatience = reconnectPatience
        let (io, index) = try await Self.open(broker, name: connectionName, start: 0)
        link = Mutex(Link(io: io, nextURL: index))
    }

    /// Publishes a task and waits for the broker's confirm.
    ///
    /// A lost connection is replaced: the publish after it connects again (to the next
    /// `broker.url` first), retrying for up to ``reconnectPatience``.
    /// - Throws: ``PublishError`` when the broker refused it; ``AMQP/AMQPError`` when the
    ///   connection failed before the confirm: the task was **not confirmed** and may or may not
    ///   have reached the queue (publish it again if a duplicate is better than a loss), or no
    ///   broker answered within ``reconnectPatience``.
    public func publish(_ task: TaskMessage) async throws {
        try await send(task, on: try await connection())
    }

    private func send(_ task: TaskMessage, on io: AMQPConnectionThread) async throws {
        let message = task.encoded()
        let outcome: AMQPChannel.PublishOutcome
        do {
            outcome = try await io.publish(
                message.body, exchange: exchange, routingKey: task.name, properties: message.properties, on: Self.publishChannel)
        } catch {
            // Dead, or its channel closed (which failed every publish waiting on it): start afresh.
            await drop(io)
            throw error
        }
        switch outcome {
        case .acked: return
        case .nacked: throw PublishError("the broker refused task \(task.name) [\(task.id)] (basic.nack)")
        case .returned(let r): throw PublishError("task \(task.name) [\(task.id)] was returned: \(r.replyText)")
        }
    }

    /// The live connection, or a new one (one reconnection at a time, shared by the callers).
    private func connection() async throws -> AMQPConnectionThread {
        let (io, pending) = try link.withLock { link -> (AMQPConnectionThread?, Task<AMQPConnectionThread, any Error>?) in
            if link.closed { throw PublishError("the publisher was closed") }
            if let io = link.io, io.failure == nil { return (io, nil) }
            link.io = nil
            if link.connecting == nil {
                let (broker, name, start, patience) = (self.broker, connectionName, link.nextURL, reconnectPatience)
                link.connecting = Task { try await Self.reconnect(broker, name: name, start: start, patience: patience) }
            }
            return (nil, link.connecting)
        }
        if let io { return io }
        let result = await pending!.result
        let usable = link.withLock { link -> Bool in
            if link.connecting == pending { link.connecting = nil }
            if case .success(let io) = result, !link.closed {
                if link.io == nil { link.io = io }
                return link.io === io
            }
            return false
        }
        let fresh = try result.get()
        guard usable else {
            await fresh.close()
            throw PublishError("the publisher was closed")
        }
        return fresh
    }

    /// Forgets `io` (if it is still the one in use) and closes it.
    private func drop(_ io: AMQPConnectionThread) async {
        link.withLock { link in
            guard link.io === io else { return }
            link.io = nil
            link.nextURL += 1
        }
        await io.close()
    }

    /// Opens a connection and the publisher's channels.
    private static func open(_ broker: BrokerConfig, name: String, start: Int) async throws -> (AMQPConnectionThread, Int) {
        let (io, index) = try await broker.connectAny(name: name, threadName: "amqp-publisher", start: start)
        do {
            try await io.perform { connection throws(AMQPError) in
                _ = try connection.openChannel(publishChannel)
                _ = try connection.openChannel(replyChannel)
            }
        } catch {
            await io.close()
            throw error
        }
        return (io, index)
    }

    /// Tries ``open(_:name:start:)`` with the reconnection backoff until it works or `patience` passed.
    private static func reconnect(_ broker: BrokerConfig, name: String, start: Int, patience: Duration) async throws
        -> AMQPConnectionThread
    {
        let deadline = ContinuousClock.now + patience
        var failures = 0
        while true {
            do {
                return try await open(broker, name: name, start: start + failures).0
            } catch {
                failures += 1
                let wait = BrokerConfig.reconnectDelay(afterFailures: failures)
                guard ContinuousClock.now + wait < deadline else { throw error }
                try await Task.sleep(for: wait)
            }
        }
    }

    /// Publishes a task with this publisher as its `reply_to` and waits for the result.
    /// - Returns: The handler's result.
    /// - Throws: ``TaskFailed`` when the task failed (with the error type and message the
    ///   worker reported), ``PublishError`` when it timed out or could not be published.
    public func call(_ task: TaskMessage, timeout: Duration = .seconds(60)) async throws -> JSONValue {
        var task = task
        let (replyQueue, io) = try await replyQueue()
        task.replyTo = replyQueue
        task.ignoreResult = false
        let id = task.id
        let name = task.name
        let reply = try await withThrowingTaskGroup(of: TaskReply?.self) { group in
            group.addTask { [self] in
                try await withCheckedThrowingContinuation { continuation in
                    let early = replies.withLock { state -> TaskReply? in
                        if let r = state.early.removeValue(forKey: id) { return r }
                        state.waiters[id] = (ObjectIdentifier(io), continuation)
                        return nil
                    }
                    if let early { continuation.resume(returning: early) }
                    // Registered after the reply listener gave up on a dead connection: fail here.
                    if let failure = io.failure {
                        replies.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(throwing: failure)
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            do {
                // On the reply queue's connection: a new one would not have that queue.
                try await send(task, on: io)
            } catch {
                replies.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(throwing: error)
                group.cancelAll()
                throw error
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else {
                replies.withLock { $0.waiters.removeValue(forKey: id) }?.continuation
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
        let (io, pending) = link.withLock { link in
            link.closed = true
            defer { link.io = nil }
            return (link.io, link.connecting)
        }
        pending?.cancel()
        await io?.close()
        failWaiters(PublishError("the publisher was closed"))
    }

    /// Fails the callers waiting for results (only those whose reply queue is on `io`, if given).
    private func failWaiters(_ error: any Error, on io: AMQPConnectionThread? = nil) {
        let waiters = replies.withLock { state in
            let failing = state.waiters.filter { io == nil || $0.value.io == ObjectIdentifier(io!) }
            for id in failing.keys { state.waiters[id] = nil }
            return failing
        }
        for (_, w) in waiters { w.continuation.resume(throwing: error) }
    }

    /// Declares this publisher's reply queue (exclusive, server-named) on first use of a
    /// connection and starts routing replies to their callers.
    /// - Returns: The queue, and the connection it lives on.
    private func replyQueue() async throws -> (String, AMQPConnectionThread) {
        let io = try await connection()
        if let queue = replies.withLock({ $0.io === io ? $0.queue : nil }) { return (queue, io) }
        let queue = try await io.perform { connection throws(AMQPError) in
            let channel = try connection.channel(Self.replyChannel)
            let name = try channel.declareQueue("", durable: false, exclusive: true, autoDelete: true).name
            try channel.consume(queue: name, noAck: true)
            return name
        }
        replies.withLock { state in
            state.queue = queue
            state.io = io
        }
        let task = Task { [self] in
            for await event in io.events {
                guard case .delivery(let delivery) = event,
                    let reply = try? TaskReply.decode(properties: delivery.properties, body: delivery.body),
                    reply.state.isReady
                else { continue }
                let id = delivery.properties.correlationID ?? reply.taskID
                let waiter = replies.withLock { state -> CheckedContinuation<TaskReply, any Error>? in
                    if let w = state.waiters.removeValue(forKey: id) { return w.continuation }
                    state.early[id] = reply
                    return nil
                }
                waiter?.resume(returning: reply)
            }
            // The connection ended: its reply queue is gone, and so are the replies still to come.
            if !Task.isCancelled, let failure = io.failure {
                failWaiters(PublishError("the connection was lost before the result came: \(failure)"), on: io)
            }
        }
        listener.withLock { $0 = task }
        return (queue, io)
    }
}

/// A task that could not be published, or whose result did not come.
public struct PublishError: Error, Sendable, CustomStringConvertible {
    /// What happened.
    public var description: String
    init(_ description: String) { self.description = description }
}
