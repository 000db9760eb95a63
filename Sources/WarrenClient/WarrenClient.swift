import AMQP
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import WarrenCore

/// Sends tasks to Warren (or any Celery worker) and awaits their results: what a web app links.
///
/// ```swift
/// let client = WarrenClient(configuration: try .init(url: "amqp://guest:guest@127.0.0.1:5672/%2F"))
/// // In an app, add `client` to the ServiceGroup; it is a `Service`.
/// let handle = try await client.send(Add(a: 2, b: 3))        // after the broker's confirm
/// let sum = try await handle.result(timeout: .seconds(30))   // 5
/// ```
///
/// - A send returns once the broker **confirmed** it has the task; anything else throws
///   (``WarrenClientError``), never a silent loss. Many sends may be under way at once on one
///   connection; their confirms stream back.
/// - Results come back on one reply queue per client, matched to their callers by task id, in
///   Celery's `rpc://` format, so the same handle works for tasks run by Python workers. The
///   queue outlives a lost connection (for ``Configuration/replyQueueExpiry``), so a result that
///   comes while the client reconnects is not lost.
/// - librabbitmq runs on a thread of its own: no call blocks the cooperative pool or an event loop.
/// - ``run()`` keeps the connection up and, on graceful shutdown, stops taking sends, waits for the
///   confirms of those under way, and closes. Without `run()` the client connects on first use.
public final class WarrenClient: Service, Sendable {
    /// Where the client sends and how it reconnects.
    public let configuration: Configuration
    /// The queue results come back to: one per client, kept across reconnections.
    public let replyQueue: String
    let logger: Logger
    let connectionName: String
    let link = Mutex(Link())
    let replies: Mutex<ReplyBook<CheckedContinuation<TaskReply, any Error>>>
    let gate = Mutex(SendGate<CheckedContinuation<Void, Never>>())

    static let publishChannel: UInt16 = 1
    static let replyChannel: UInt16 = 2

    /// A client; it connects on first use, or when ``run()`` starts.
    public init(configuration: Configuration, logger: Logger = Logger(label: "warren.client")) {
        self.configuration = configuration
        self.logger = logger
        connectionName = "\(configuration.connectionName) pid \(getpid())"
        replyQueue = "\(configuration.exchange).reply.\(UUID().uuidString.lowercased())"
        replies = Mutex(ReplyBook(capacity: configuration.maxUnclaimedResults))
    }

    /// A client for the broker and exchange of a worker's config, connected now.
    /// - Throws: `AMQPError` when no broker answers now.
    public convenience init(
        configuration: WarrenConfiguration, name: String = "warren client", reconnectPatience: Duration = .seconds(30)
    ) async throws {
        var settings = Configuration(configuration, connectionName: name)
        settings.reconnectPatience = reconnectPatience
        self.init(configuration: settings)
        _ = try await connection(patience: .zero)
    }

    /// Keeps the connection up until a graceful shutdown (or cancellation), then closes the
    /// client: sends under way get their confirms first; new ones throw `closed`.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.keepConnected() }
            try? await gracefulShutdown()
            await close()
            group.cancelAll()
        }
    }

    /// Sends a typed task. Returns once the broker confirmed it.
    /// - Throws: ``WarrenClientError``: `notConfirmed`, `refused`, `unroutable`, `unreachable`,
    ///   `closed`, `invalidTask`.
    public func send<Task: TaskDefinition>(_ task: Task, options: TaskOptions = TaskOptions()) async throws -> TaskHandle<Task.Result> {
        let message: TaskMessage
        do {
            message = try task.message()
        } catch {
            throw WarrenClientError(.invalidTask, "\(Task.name): \(error)")
        }
        let sent = try await sendConfirmed(message, options: options)
        return TaskHandle(id: sent.id, name: sent.name, client: sent.wantsReply ? self : nil)
    }

    /// Sends a task message as it is (name, args, kwargs), for callers without a typed task.
    /// - Throws: as ``send(_:options:)-(Task,_)``.
    public func send(_ message: TaskMessage, options: TaskOptions = TaskOptions()) async throws -> TaskHandle<JSONValue> {
        let sent = try await sendConfirmed(message, options: options)
        return TaskHandle(id: sent.id, name: sent.name, client: sent.wantsReply ? self : nil)
    }

    /// Publishes `message` with `options` and waits for the broker's confirm; returns what went out.
    func sendConfirmed(_ message: TaskMessage, options: TaskOptions) async throws -> TaskMessage {
        var message = options.applied(to: message)
        // The sender's trace continues in the worker; a traceparent the caller set stays.
        TraceHeaders.inject(into: &message.headers)
        if options.awaitsResult {
            if (message.replyTo ?? "").isEmpty { message.replyTo = replyQueue }
            message.ignoreResult = false
        } else if (message.replyTo ?? "").isEmpty {
            message.ignoreResult = true
        }
        guard gate.withLock({ $0.enter() }) else {
            throw WarrenClientError(.closed, "the client is closed: task \(message.name) [\(message.id)] was not sent")
        }
        defer { for waiter in gate.withLock({ $0.leave() }) { waiter.resume() } }
        let io = try await connection(patience: configuration.reconnectPatience)
        let (exchange, routingKey) = options.destination(exchange: configuration.exchange, task: message.name)
        let encoded = message.encoded()
        let outcome: AMQPChannel.PublishOutcome
        do {
            outcome = try await io.publish(
                encoded.body, exchange: exchange, routingKey: routingKey, mandatory: options.queue != nil,
                properties: encoded.properties, on: Self.publishChannel)
        } catch {
            // Dead, or its channel closed (which failed every publish waiting on it): start afresh.
            await drop(io)
            throw WarrenClientError(
                .notConfirmed, "task \(message.name) [\(message.id)]: the connection failed before the broker's confirm (\(error))")
        }
        switch outcome {
        case .acked:
            return message
        case .nacked:
            throw WarrenClientError(.refused, "the broker refused task \(message.name) [\(message.id)] (basic.nack)")
        case .returned(let returned):
            throw WarrenClientError(
                .unroutable, "task \(message.name) [\(message.id)] was returned: \(returned.replyText) (no queue '\(routingKey)')")
        }
    }

    /// Closes the client: stops taking sends, waits for those under way, fails waits for results,
    /// and closes the connection.
    public func close() async {
        await withCheckedContinuation { continuation in
            if gate.withLock({ $0.close(continuation) }) { continuation.resume() }
        }
        let (io, pending, keeper) = link.withLock { link in
            link.closed = true
            defer { link.io = nil }
            return (link.io, link.connecting, link.listener)
        }
        pending?.cancel()
        keeper?.cancel()
        await io?.close()
        for waiter in replies.withLock({ $0.close() }) {
            waiter.resume(throwing: WarrenClientError(.closed, "the client was closed before the result came"))
        }
    }
}
