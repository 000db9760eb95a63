import AMQP
import Foundation
import Logging
import Synchronization
import WarrenCore

/// The supervisor as a Celery node (docs/celery-node.md): answers remote control on its pidbox
/// queue and sends worker events, on a broker connection of its own.
///
/// Every decision is ``ControlState``'s; this class declares the exchanges and the queue as
/// kombu does (so that a Celery client's own declarations agree), turns deliveries and its
/// heartbeat timer into events, asks the supervisor for the facts of the moment, and performs
/// the actions. A lost connection ends the session; it connects again (100 ms doubling to 5 s).
/// Blocking librabbitmq calls run on the connection's thread (`AMQPConnectionThread`).
final class ControlNode: Sendable {
    /// The fanout exchange every Celery node's pidbox queue is bound to.
    static let exchange = "celery.pidbox"
    /// Celery's event exchange.
    static let eventExchange = "celeryev"
    /// The heartbeat of the node's connection, whatever `broker.heartbeat` says.
    static let heartbeat: Duration = .seconds(10)

    /// The node's queue (kombu `Mailbox.get_queue`): `<node>.celery.pidbox`.
    static func queue(node: String) -> String { "\(node).celery.pidbox" }

    /// The queue's arguments, as Celery 5.7 declares it: `x-expires` 10 s and `x-message-ttl`
    /// 300 s (`control_queue_expires`, `control_queue_ttl`), milliseconds as integers.
    static let queueArguments: AMQPTable = ["x-expires": .int32(10_000), "x-message-ttl": .int32(300_000)]

    private let configuration: WarrenConfiguration
    private let node: String
    private let logger: Logger
    private let facts: @Sendable () async -> NodeFacts
    private let command: @Sendable (ControlState.Command) async -> Void
    private let loop = LoopTask()
    private let state: Mutex<ControlState>

    /// - Parameters:
    ///   - facts: What the supervisor knows now (asked for each request and heartbeat).
    ///   - command: Does what a request asks of the supervisor (revoke, pause a queue, ...).
    init(
        configuration: WarrenConfiguration, node: String, logger: Logger, facts: @escaping @Sendable () async -> NodeFacts,
        command: @escaping @Sendable (ControlState.Command) async -> Void
    ) {
        self.configuration = configuration
        self.node = node
        self.logger = logger
        self.facts = facts
        self.command = command
        state = Mutex(ControlState(node: node, control: configuration.control, events: configuration.events))
    }

    /// Whether task events are on now.
    var eventsEnabled: Bool { state.withLock { $0.eventsEnabled } }

    /// Starts answering and sending heartbeats.
    func start() {
        loop.start { await self.run() }
    }

    /// Sends `worker-offline` (when connected) and closes the connection.
    func stop() async {
        await loop.stop()
    }

    private func run() async {
        var broker = configuration.broker
        broker.heartbeat = Self.heartbeat
        let connection = OwnConnection(
            broker: broker, name: "\(ProcessInfo.processInfo.processName) celery node \(node)", threadName: "amqp-node",
            part: "celery node", logger: logger)
        await connection.run(deliveries: { Event.delivery($0) }, lost: { Event.lost($0) }) { io, events, sink, connected in
            let ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(ControlState.heartbeatInterval))
                    sink.yield(.tick)
                }
            }
            defer { ticker.cancel() }
            do {
                try await declareAndConsume(io)
                connected()
                logger.info("celery node: answering remote control", metadata: ["node": "\(node)", "queue": "\(Self.queue(node: node))"])
                await sendWorkerEvent("worker-online", io: io)
                for await event in events {
                    switch event {
                    case .delivery(let delivery): await handle(delivery, io: io)
                    case .tick: await sendWorkerEvent("worker-heartbeat", io: io)
                    case .lost(let why): throw AMQPError(.connectionClosed, why)
                    }
                }
                throw CancellationError()  // the stream ends only when this task is cancelled
            } catch is CancellationError {
                await sendOffline(io)
                throw CancellationError()
            }
        }
    }

    private enum Event: Sendable {
        case delivery(AMQPDelivery)
        case tick
        case lost(String)
    }

    /// Declares what kombu declares (kombu/pidbox.py `Mailbox`, celery/events): the fanout
    /// `celery.pidbox` and direct `reply.celery.pidbox` exchanges (not durable), the topic
    /// `celeryev` exchange (durable), and the node's queue; then consumes it without acks, as
    /// kombu's `Node.listen` does.
    private func declareAndConsume(_ io: AMQPConnectionThread) async throws {
        let queue = Self.queue(node: node)
        do {
            try await io.perform { connection throws(AMQPError) in
                let channel = try connection.openChannel(1)
                try channel.declareExchange(Self.exchange, type: "fanout", durable: false)
                try channel.declareExchange(ControlRequest.replyExchange, type: "direct", durable: false)
                try channel.declareExchange(Self.eventExchange, type: "topic", durable: true)
                try channel.declareQueue(queue, durable: false, exclusive: true, autoDelete: true, arguments: Self.queueArguments)
                try channel.bindQueue(queue, to: Self.exchange, routingKey: "")
                _ = try connection.openChannel(2)
                _ = try connection.openChannel(3)
                try channel.consume(queue: queue, noAck: true, exclusive: true)
            }
        } catch {
            guard "\(error)".contains("RESOURCE_LOCKED") else { throw error }
            logger.error(
                "celery node: another process uses this node name; give each supervisor its own node_name",
                metadata: ["node": "\(node)", "queue": "\(queue)"])
            throw error
        }
    }

    private func handle(_ delivery: AMQPDelivery, io: AMQPConnectionThread) async {
        let headers = delivery.properties.headers
        let clock = headers?["clock"]?.intValue.flatMap { UInt64(exactly: max($0, 0)) }
        let expires = headers?["expires"]?.doubleValue ?? headers?["expires"]?.intValue.map(Double.init)
        // Gathering facts costs the supervisor's actor a turn: only for a request that reads them.
        let facts = state.withLock { $0.needsFacts(delivery.body) } ? await self.facts() : .none
        let actions = state.withLock { $0.received(delivery.body, clock: clock, expires: expires, now: Date(), facts: facts) }
        for action in actions {
            switch action {
            case .reply(let routingKey, let ticket, let clock, let body):
                let properties = AMQPBasicProperties(
                    contentType: "application/json", contentEncoding: "utf-8",
                    headers: ["ticket": ticket.map(AMQPValue.string) ?? .void, "clock": .int64(Int64(clamping: clock))],
                    deliveryMode: .transient)
                io.publishLater(body, exchange: ControlRequest.replyExchange, routingKey: routingKey, properties: properties, on: 2)
            case .command(let command):
                await self.command(command)
            case .log(let line):
                let metadata = line.metadata.mapValues { Logger.MetadataValue.string(ErrorText.bounded($0, maxBytes: 512)) }
                switch line.level {
                case .debug: logger.debug("\(line.message)", metadata: metadata)
                case .info: logger.info("\(line.message)", metadata: metadata)
                case .warning: logger.warning("\(line.message)", metadata: metadata)
                }
            }
        }
    }

    private func workerEvent(_ type: String) async -> (routingKey: String, body: [UInt8], properties: AMQPBasicProperties) {
        let facts = await self.facts()
        var load = [Double](repeating: 0, count: 3)
        if getloadavg(&load, 3) != 3 { load = [0, 0, 0] }
        let now = Date()
        let offset = ControlState.utcoffset(.current, at: now)
        let (key, body) = state.withLock { $0.workerEvent(type, now: now, facts: facts, utcoffset: offset, loadAverage: load) }
        let properties = AMQPBasicProperties(
            contentType: "application/json", contentEncoding: "utf-8", headers: ["hostname": .string(node)], deliveryMode: .transient)
        return (key, body, properties)
    }

    private func sendWorkerEvent(_ type: String, io: AMQPConnectionThread) async {
        let event = await workerEvent(type)
        io.publishLater(event.body, exchange: Self.eventExchange, routingKey: event.routingKey, properties: event.properties, on: 2)
    }

    /// `worker-offline`, confirmed (at most 2 s) before the connection closes.
    private func sendOffline(_ io: AMQPConnectionThread) async {
        let event = await workerEvent("worker-offline")
        // The publish ends when the broker confirms, or when the connection closes after the wait.
        let (done, signal) = AsyncStream.makeStream(of: Void.self)
        let send = Task {
            _ = try? await io.publish(
                event.body, exchange: Self.eventExchange, routingKey: event.routingKey, properties: event.properties, on: 3)
            signal.yield()
        }
        let timeout = Task {
            try? await Task.sleep(for: .seconds(2))
            signal.yield()
        }
        var first = done.makeAsyncIterator()
        _ = await first.next()
        timeout.cancel()
        _ = send
    }
}
