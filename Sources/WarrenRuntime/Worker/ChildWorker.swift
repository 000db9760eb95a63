import AMQP
import CWarrenSystem
import Foundation
import Logging
import Synchronization
import WarrenCore

/// One consumer of one queue: the child worker loop (docs/architecture.md, "Processes").
///
/// It owns its connection (an ``AMQP/AMQPConnectionThread``, so heartbeats and acks flow while
/// handlers run), sets `basic.qos` to the queue's `prefetch`, consumes only its queue, runs up to
/// `concurrency` handlers at once, and acknowledges a message only once its handler finished and
/// its outcome is safe with the broker (acks-late, at-least-once): a reply sent, a retry or dead
/// letter confirmed. A child that dies loses nothing: the broker redelivers what it had not acked.
///
/// **Stopping** is cancelling the task that runs ``run(onReady:onDisconnected:)``: a warm
/// shutdown. The child stops taking deliveries, lets running handlers finish and acks them, then
/// closes its connection, which gives the prefetched messages it had not started back to the queue.
///
/// **A lost connection** is replaced (see ``run(onReady:onDisconnected:)``); the process goes on.
package final class ChildWorker: Sendable {
    /// The queue this child consumes.
    package let queue: QueueConfig
    let configuration: WarrenConfiguration
    let registry: TaskRegistry
    let logger: Logger
    /// Which child of the queue this is (1-based), for names and logs.
    package let slot: Int
    let decoder: EnvelopeDecoder
    let delays: DelayedDelivery
    let retryPolicy: RetryPolicy
    let declaredWaitQueues = Mutex<[Int: ContinuousClock.Instant]>([:])
    let hooks: ChildHooks
    /// The connection loop, to stop it from inside (recycling).
    private let loopTask = Mutex<Task<Void, Never>?>(nil)
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
    package convenience init(queue: QueueConfig, configuration: WarrenConfiguration, registry: TaskRegistry, slot: Int = 1, logger: Logger)
    {
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
    /// shutdown, after which it returns).
    ///
    /// A lost connection does not end it: the child reconnects by itself, waiting 100 ms
    /// doubling to 5 s (±20 %) between attempts and starting with the next `broker.url`, then
    /// sets up its channels, `basic.qos` and consumer again and goes on. Handlers still running
    /// on the lost connection finish, but cannot settle their deliveries (the delivery tags died
    /// with it): the broker redelivers those messages, so a task may run twice, never zero times.
    /// - Parameters:
    ///   - onReady: Called each time the consumer is registered with the broker.
    ///   - onDisconnected: Called each time the connection (or its consumer) is lost; the child
    ///     takes no task until the next `onReady`.
    package func run(onReady: @escaping @Sendable () -> Void = {}, onDisconnected: @escaping @Sendable () -> Void = {}) async throws {
        // Unstructured, so that ``recycle(_:)`` can cancel it from inside like a warm shutdown.
        let runner = Task { await self.runConnections(onReady: onReady, onDisconnected: onDisconnected) }
        loopTask.withLock { $0 = runner }
        await withTaskCancellationHandler {
            await runner.value
        } onCancel: {
            runner.cancel()
        }
        logger.info("stopped")
    }

    /// Consumes on one connection after another until cancelled, then finishes the tasks in flight.
    private func runConnections(onReady: @escaping @Sendable () -> Void, onDisconnected: @escaping @Sendable () -> Void) async {
        // Shared by every connection: handlers of a lost connection still hold their slots, so
        // `concurrency` is never exceeded, and a warm shutdown waits for them too.
        let slots = AsyncSlots(queue.concurrency)
        let inFlight = InFlight()
        var nextURL = slot - 1  // children spread over a cluster's nodes
        var failures = 0
        while let (io, index) = await connect(startingAt: nextURL, failures: &failures) {
            // Stopped while the connect completed: a child that began to stop never consumes again.
            guard !Task.isCancelled else {
                await io.close()
                break
            }
            let began = ContinuousClock.now
            do {
                try await startConsuming(on: io)
            } catch {
                failures += 1
                let wait = BrokerConfig.reconnectDelay(afterFailures: failures)
                logger.warning("cannot consume; reconnecting", metadata: ["error": "\(error)", "retry.in": "\(wait.secondsText)"])
                await io.close()
                nextURL = index + 1
                guard (try? await Task.sleep(for: wait)) != nil else { break }
                continue
            }
            onReady()
            guard let lost = await consume(on: io, slots: slots, inFlight: inFlight) else {
                // Cancelled: a warm shutdown. Running handlers still need this connection to ack.
                stopping.withLock { $0 = true }
                logger.info("warm shutdown: finishing tasks in flight", metadata: ["tasks": "\(inFlight.count)"])
                await inFlight.waitUntilIdle()
                hooks.flushTaskEvents(io)
                if let died = io.failure {
                    logger.warning(
                        "the connection died while tasks finished; the broker redelivers the ones not acknowledged",
                        metadata: [
                            "error": "\(died)"
                        ])
                }
                await io.close()
                return
            }
            onDisconnected()
            await io.close()
            // A session that ran a while starts the backoff over; one that keeps dying at once does not.
            if ContinuousClock.now - began >= .seconds(5) { failures = 0 }
            nextURL = index + 1
            declaredWaitQueues.withLock { $0 = [:] }  // a fresh node may not have them
            logger.warning(
                "connection lost; reconnecting",
                metadata: [
                    "error": "\(lost)", "tasks.in_flight": "\(inFlight.count)",
                ])
        }
        // Cancelled while disconnected: nothing can be acked any more; wait only for the handlers.
        stopping.withLock { $0 = true }
        logger.info("warm shutdown while disconnected", metadata: ["tasks": "\(inFlight.count)"])
        await inFlight.waitUntilIdle()
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
    /// Whether this task id was revoked on the node (the supervisor tells every child).
    var isRevoked: @Sendable (_ id: String) -> Bool = { _ in false }
    /// The limits that replace the queue's `time_limit` for a task name (remote control), if any.
    var timeLimit: @Sendable (_ name: String) -> TaskTimeLimit? = { _ in nil }
    /// A handler that can be cancelled alone started (`revoke(terminate=True)` cancels it).
    var cancellable: @Sendable (_ id: String, _ cancel: @escaping @Sendable () -> Void) -> Void = { _, _ in }
    /// A handler ended: whether `revoke(terminate=True)` cancelled it.
    var handlerEnded: @Sendable (_ id: String) -> Bool = { _ in false }
    /// Whether task events are on now (checked before an event is built).
    var taskEventsOn: @Sendable () -> Bool = { false }
    /// Sends a task event on the child's connection.
    var sendTaskEvent: @Sendable (_ event: TaskEvent, _ io: AMQPConnectionThread) -> Void = { _, _ in }
    /// Sends the task events still waiting for their batch (before a warm shutdown closes `io`).
    var flushTaskEvents: @Sendable (_ io: AMQPConnectionThread) -> Void = { _ in }
}

/// The most memory this process has held resident, in bytes. A task that allocated past the
/// limit and freed it before returning still pushed the child past it (and likely fragmented
/// its heap): the peak, not the current figure, is what `max_memory` is checked against.
func peakResidentBytes() -> Int64? {
    let peak = cws_peak_resident_bytes()
    return peak < 0 ? nil : Int64(peak)
}
