import AMQP
import Foundation
import Logging
import Synchronization
import WarrenCore

/// The periodic scheduler of one supervisor (docs/schedules.md): takes part in the election on
/// the broker and, while this node leads, fires the schedules.
///
/// Every decision is ``SchedulerState``'s; this class owns the broker connection (its own, with
/// a short heartbeat, so that the broker notices a vanished host within about
/// 2 × ``heartbeat``), turns deliveries, confirms and timers into events, and performs the
/// actions. A lost connection ends the session: the broker gives the token to another node, and
/// this one connects again (100 ms doubling to 5 s) and waits its turn.
///
/// Blocking librabbitmq calls run on the connection's thread (``AMQPConnectionThread``), never
/// on the cooperative pool.
final class Scheduler: Sendable {
    /// The heartbeat of the scheduler's connection, whatever `broker.heartbeat` says.
    static let heartbeat: Duration = .seconds(4)
    /// Unacknowledged tokens the broker may hand the leader at once.
    static let prefetch: UInt16 = 10

    private let configuration: WarrenConfiguration
    private let node: String
    private let metrics: WarrenMetrics
    private let logger: Logger
    private let loop = LoopTask()
    /// Fires recorded but not confirmed when their connection ended: published on the next.
    private let unsent = Mutex<[SchedulerState.Fire]>([])

    /// - Parameters:
    ///   - configuration: The schedules, the exchange and the broker.
    ///   - node: How this node signs its tokens (`warren@host pid 123`).
    init(configuration: WarrenConfiguration, node: String, metrics: WarrenMetrics, logger: Logger) {
        self.configuration = configuration
        self.node = node
        self.metrics = metrics
        self.logger = logger
    }

    /// `warren@<hostname> pid <pid>`: distinct for several supervisors on one host.
    static var defaultNode: String {
        "warren@\(HostName.current) pid \(getpid())"
    }

    /// Starts taking part in the election.
    func start() {
        loop.start { await self.run() }
    }

    /// Stops: closes the connection, so the broker hands the token to the next node at once
    /// (nothing is acknowledged on the way out), and waits until it is closed.
    func stop() async {
        await loop.stop()
    }

    // MARK: - Sessions

    private func run() async {
        metrics.scheduleLeader(false)
        logger.info(
            "scheduler: taking part in the election", metadata: ["queue": "\(ScheduleRecord.queue(exchange: configuration.exchange))"])
        var broker = configuration.broker
        broker.heartbeat = Self.heartbeat
        let connection = OwnConnection(
            broker: broker, name: "\(ProcessInfo.processInfo.processName) scheduler pid \(getpid())", threadName: "amqp-scheduler",
            part: "scheduler", logger: logger)
        await connection.run(
            deliveries: { Event.delivery(tag: $0.deliveryTag, body: $0.body) }, lost: { Event.lost($0) },
            afterEach: { metrics.scheduleLeader(false) }
        ) { io, events, sink, connected in
            var timer: Task<Void, Never>?
            defer { timer?.cancel() }
            try await declareAndConsume(io)
            connected()
            publishUnsent(io: io)
            var state = SchedulerState(schedules: configuration.schedules, node: node)
            for await event in events {
                let now = Date()
                let actions: [SchedulerState.Action]
                switch event {
                case .delivery(let tag, let body): actions = state.tokenDelivered(tag: tag, body: body, now: now)
                case .written(let id): actions = state.tokenWritten(id: id, now: now)
                case .timer: actions = state.timerFired(now: now)
                case .lost(let why): throw AMQPError(.connectionClosed, why)
                }
                perform(actions, io: io, sink: sink, timer: &timer)
            }
            throw CancellationError()  // the stream ends only when this task is cancelled
        }
        metrics.scheduleLeader(false)
    }

    private enum Event: Sendable {
        case delivery(tag: UInt64, body: [UInt8])
        case written(id: String)
        case timer
        case lost(String)
    }

    /// Declares the scheduler queue (and the record), writes the first token if the queue has
    /// neither messages nor consumers, and starts consuming.
    private func declareAndConsume(_ io: AMQPConnectionThread) async throws {
        let queue = ScheduleRecord.queue(exchange: configuration.exchange)
        let record = ScheduleRecord.recordQueue(exchange: configuration.exchange)
        let info = try await io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel(1)
            let info = try channel.declareQueue(queue, durable: true, arguments: ScheduleRecord.queueArguments)
            _ = try connection.openChannel(2)
            try ScheduleRecord.declareRecord(on: connection.openChannel(3), name: record)
            return info
        }
        if info.consumerCount == 0 && info.messageCount == 0 {
            // No token anywhere: nobody holds one (no consumer) and none waits. Two nodes may both
            // write one here; the leader merges them.
            let token = ScheduleToken.empty(writer: node, now: Date())
            guard case .acked = try await io.publish(token.encoded(), routingKey: queue, properties: ScheduleRecord.properties, on: 2)
            else {
                throw AMQPError(.protocolError, "the broker refused the first token", context: queue)
            }
            logger.info("scheduler: wrote the first token", metadata: ["queue": "\(queue)"])
        }
        try await io.perform { connection throws(AMQPError) in
            let channel = try connection.channel(1)
            try channel.setPrefetch(Self.prefetch)
            try channel.consume(queue: queue)
        }
    }

    private func perform(
        _ actions: [SchedulerState.Action], io: AMQPConnectionThread, sink: AsyncStream<Event>.Continuation,
        timer: inout Task<Void, Never>?
    ) {
        let queue = ScheduleRecord.queue(exchange: configuration.exchange)
        let record = ScheduleRecord.recordQueue(exchange: configuration.exchange)
        for action in actions {
            switch action {
            case .writeToken(let token):
                Task {
                    let body = token.encoded()
                    let outcome = try? await io.publish(body, routingKey: queue, properties: ScheduleRecord.properties, on: 2)
                    guard case .acked = outcome else {
                        sink.yield(.lost("the broker did not confirm the token (\(outcome.map { "\($0)" } ?? "connection lost"))"))
                        return
                    }
                    io.publishLater(body, routingKey: record, properties: ScheduleRecord.properties, on: 3)
                    sink.yield(.written(id: token.id))
                }
            case .ack(let tags):
                io.submit { connection throws(AMQPError) in
                    let channel = try connection.channel(1)
                    for tag in tags { try channel.ack(tag) }
                }
            case .fire(let fire):
                guard let schedule = configuration.schedule(named: fire.schedule) else { continue }
                Task { await self.publish(schedule, fire, io: io) }
            case .wake(let date):
                timer?.cancel()
                timer = Task {
                    // Not longer than 30 s at a time: the wall clock may be set meanwhile.
                    let delay = min(max(date.timeIntervalSinceNow, 0), 30)
                    try? await Task.sleep(for: .milliseconds(Int64(delay * 1000) + 1))
                    if !Task.isCancelled { sink.yield(.timer) }
                }
            case .becameLeader(let previous):
                metrics.scheduleLeader(true)
                logger.info("schedule leader: this node", metadata: ["node": "\(node)", "token.writer": "\(previous ?? "-")"])
            case .foreignMessage(let tag):
                logger.warning("scheduler: a message in the scheduler queue is not a token; dropping it", metadata: ["delivery": "\(tag)"])
            }
        }
    }

    /// Publishes the task of a fire whose tick is recorded. A fire the broker refuses (a full
    /// queue with `reject-publish`, say) is published again while it has not expired
    /// (``FireRetry``); one whose connection ended first is kept for the next connection.
    private func publish(_ schedule: ScheduleConfig, _ fire: SchedulerState.Fire, io: AMQPConnectionThread, attempt: Int = 1) async {
        let message = ScheduleMessage(schedule: schedule, exchange: configuration.exchange, tick: fire.tick, expiresAt: fire.expiresAt)
        let encoded = message.task.encoded()
        let tick = CeleryTime.format(fire.tick)
        let metadata: Logger.Metadata = ["schedule": "\(schedule.name)", "tick": "\(tick)", "task.id": "\(message.task.id)"]
        do {
            let outcome = try await io.publish(
                encoded.body, exchange: message.exchange, routingKey: message.routingKey, mandatory: true,
                properties: encoded.properties, on: 2)
            switch outcome {
            case .acked:
                metrics.scheduleFired(schedule: schedule.name)
                logger.info("fired \(schedule.name) tick \(tick)", metadata: metadata)
            case .returned:
                logger.error("schedule fire returned: no queue \(message.routingKey); tick skipped", metadata: metadata)
            case .nacked:
                guard let delay = FireRetry.delay(afterAttempts: attempt, now: Date(), expiresAt: fire.expiresAt) else {
                    logger.error("schedule fire refused by the broker until it expired; tick skipped", metadata: metadata)
                    return
                }
                logger.warning(
                    "schedule fire refused by the broker; retrying", metadata: metadata.merging(["retry.in": "\(delay.secondsText)"]) { $1 }
                )
                try? await Task.sleep(for: delay)
                guard io.failure == nil, !Task.isCancelled else {
                    unsent.withLock { $0.append(fire) }
                    return
                }
                await publish(schedule, fire, io: io, attempt: attempt + 1)
            }
        } catch {
            unsent.withLock { $0.append(fire) }
            logger.warning(
                "schedule fire not confirmed before the connection ended; publishing it again on the next one",
                metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }

    /// Publishes the fires a lost connection left unconfirmed, those not expired yet.
    private func publishUnsent(io: AMQPConnectionThread) {
        let fires = unsent.withLock { fires in
            defer { fires = [] }
            return fires
        }
        for fire in fires where fire.expiresAt > Date() {
            guard let schedule = configuration.schedule(named: fire.schedule) else { continue }
            Task { await self.publish(schedule, fire, io: io) }
        }
    }
}
