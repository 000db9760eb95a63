import AMQP
import Foundation
import Logging
import Synchronization
import CWarrenSystem

/// One consumer of one queue: the child worker loop (DESIGN section 2).
///
/// It owns its connection (an ``AMQP/AMQPConnectionThread``, so heartbeats and acks flow while
/// handlers run), sets `basic.qos` to the queue's `prefetch`, consumes only its queue, runs up to
/// `concurrency` handlers at once, and acknowledges a message only once its handler finished and
/// its outcome is safe with the broker (acks-late, at-least-once): a reply sent, a retry or dead
/// letter confirmed. A child that dies loses nothing: the broker redelivers what it had not acked.
///
/// **Stopping** is cancelling the task that runs ``run(onReady:)``: a warm shutdown. The child
/// stops taking deliveries, lets running handlers finish and acks them, then closes its
/// connection, which gives the prefetched messages it had not started back to the queue.
public final class ChildWorker: Sendable {
    /// The queue this child consumes.
    public let queue: QueueConfig
    let configuration: WarrenConfiguration
    let registry: TaskRegistry
    let logger: Logger
    /// Which child of the queue this is (1-based), for names and logs.
    public let slot: Int
    let decoder: EnvelopeDecoder
    let delays: DelayedDelivery
    let retryPolicy: RetryPolicy
    let declaredWaitQueues = Mutex<[Int: ContinuousClock.Instant]>([:])
    let hooks: ChildHooks
    /// The consume loop, to stop it from inside (recycling).
    private let loopTask = Mutex<Task<(any Error)?, Never>?>(nil)
    /// Set once the child stops taking tasks: prefetched ones that have not started go back.
    let stopping = Mutex(false)
    private let tasksDone = Mutex(0)

    static let consumeChannel: UInt16 = 1
    /// Confirmed publishes: retries, delays, dead letters. The original is acked only after the
    /// broker confirmed its successor.
    static let publishChannel: UInt16 = 2
    /// Results for `reply_to`: like Celery's rpc backend, transient and not confirmed.
    static let replyChannel: UInt16 = 3

    /// A child for `queue` of `configuration`, running the handlers of `registry`.
    public convenience init(queue: QueueConfig, configuration: WarrenConfiguration, registry: TaskRegistry, slot: Int = 1, logger: Logger) {
        self.init(queue: queue, configuration: configuration, registry: registry, slot: slot, logger: logger, hooks: ChildHooks())
    }

    init(queue: QueueConfig, configuration: WarrenConfiguration, registry: TaskRegistry, slot: Int, logger: Logger, hooks: ChildHooks) {
        self.hooks = hooks
        self.queue = queue
        self.configuration = configuration
        self.registry = registry
        self.slot = slot
        var logger = logger
        logger[metadataKey: "queue"] = "\(queue.name)"
        logger[metadataKey: "child"] = "\(slot)"
        self.logger = logger
        self.decoder = EnvelopeDecoder(maxBodySize: Int(configuration.maxMessageSize.bytes))
        self.delays = DelayedDelivery(exchange: configuration.exchange)
        self.retryPolicy = configuration.retryPolicy(for: queue)
    }

    /// Connects, consumes, and runs tasks until the surrounding task is cancelled (a warm
    /// shutdown, after which it returns) or the connection fails (it throws).
    /// - Parameter onReady: Called once the consumer is registered with the broker.
    public func run(onReady: @Sendable () -> Void = {}) async throws {
        let connectionName = "\(ProcessInfo.processInfo.processName) \(queue.name)#\(slot) pid \(getpid())"
        let io = try await configuration.broker.connect(name: connectionName, threadName: "amqp-\(queue.name)", start: slot - 1)
        let (name, prefetch) = (queue.name, UInt16(clamping: queue.prefetch))
        do {
            try await io.perform { connection throws(AMQPError) in
                let channel = try connection.openChannel(Self.consumeChannel)
                try channel.setPrefetch(prefetch)
                _ = try connection.openChannel(Self.publishChannel)
                _ = try connection.openChannel(Self.replyChannel)
                try channel.consume(queue: name, consumerTag: connectionName)
            }
        } catch {
            await io.close()
            throw error
        }
        logger.info("consuming", metadata: ["prefetch": "\(prefetch)", "concurrency": "\(queue.concurrency)"])
        onReady()

        let tracker = DeliveryTracker()
        let slots = AsyncSlots(queue.concurrency)
        let inFlight = InFlight()
        let logger = self.logger
        // The loop ends when it is cancelled (a warm shutdown, from outside or from
        // ``recycle(_:)``) or when the connection dies.
        let loop = Task { () -> (any Error)? in
            for await event in io.events {
                switch event {
                case .delivery(let delivery):
                    tracker.received(delivery.deliveryTag)
                    inFlight.enter()
                    // Unstructured: a warm shutdown cancels the loop, not the running handlers.
                    Task {
                        await self.process(delivery, io: io, tracker: tracker, slots: slots)
                        inFlight.leave()
                    }
                case .consumerCancelled:
                    return WorkerError("the broker cancelled the consumer of '\(name)' (queue deleted?)")
                case .channelClosed(let channel, let error) where channel == Self.consumeChannel:
                    return error
                case .channelClosed(let channel, let error):
                    logger.warning("channel closed by the broker; reopening", metadata: ["channel": "\(channel)", "error": "\(error)"])
                    try? await io.perform { connection throws(AMQPError) in _ = try connection.openChannel(channel) }
                default:
                    break
                }
            }
            return nil
        }
        loopTask.withLock { $0 = loop }
        let failure = await withTaskCancellationHandler { await loop.value } onCancel: { loop.cancel() }
        stopping.withLock { $0 = true }
        if loop.isCancelled {
            logger.info("warm shutdown: finishing tasks in flight", metadata: ["tasks": "\(inFlight.count)"])
        }
        await inFlight.waitUntilIdle()
        let died = io.failure
        await io.close()
        if let failure = failure ?? died { throw failure }
        logger.info("stopped")
    }
}

extension ChildWorker {
    /// Stops taking tasks so the child can be replaced; running ones finish first.
    func recycle(_ reason: String) {
        let first = stopping.withLock { stopping -> Bool in
            defer { stopping = true }
            return !stopping
        }
        guard first else { return }
        logger.info("recycling the child", metadata: ["reason": "\(reason)"])
        hooks.recycling(reason)
        loopTask.withLock { $0?.cancel() }
    }

    /// Counts a finished task and recycles the child when a limit says so.
    func taskFinished() {
        let done = tasksDone.withLock { n -> Int in
            n += 1
            return n
        }
        if let max = queue.maxTasksPerChild, done >= max {
            recycle("max-tasks")
        } else if let limit = queue.maxMemory, let peak = peakResidentBytes(), peak > limit.bytes {
            recycle("max-memory")
        }
    }
}

/// What a child tells its supervisor and learns from it. All no-ops for a child running alone.
struct ChildHooks: Sendable {
    /// A handler started; the supervisor kills the child past `hardDeadline`.
    var taskStarted: @Sendable (_ task: TaskMessage, _ hardDeadline: Date?) -> Void = { _, _ in }
    /// A task whose handler ran ended and was settled.
    var taskFinished: @Sendable (_ summary: TaskSummary) -> Void = { _ in }
    /// A message was dead-lettered (the broker confirmed it), for this reason.
    var deadLettered: @Sendable (_ reason: DeadLetterReason) -> Void = { _ in }
    /// The child is stopping to be replaced.
    var recycling: @Sendable (_ reason: String) -> Void = { _ in }
    /// How often this task was running in a child that died (asked for redelivered tasks only).
    var deaths: @Sendable (_ id: String) async -> TaskDeaths? = { _ in nil }
}

/// The most memory this process has held resident, in bytes. A task that allocated past the
/// limit and freed it before returning still pushed the child past it (and likely fragmented
/// its heap): the peak, not the current figure, is what `max_memory` is checked against.
func peakResidentBytes() -> Int64? {
    let peak = cws_peak_resident_bytes()
    return peak < 0 ? nil : Int64(peak)
}

/// A failure of the worker itself (not of a task).
public struct WorkerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var description: String
    init(_ description: String) { self.description = description }
}
