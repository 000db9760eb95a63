import AMQP
import Foundation
import WarrenCore

extension ChildWorker {
    /// The name the broker shows for this child's connection, also its consumer tag.
    var connectionName: String { "\(ProcessInfo.processInfo.processName) \(queue.name)#\(slot) pid \(getpid())" }

    /// Connects to the first broker URL that answers, trying them in order from `start`, and
    /// tries again after ``BrokerConfig/reconnectDelay(afterFailures:)`` until one does.
    /// - Parameter failures: Attempts that failed in a row so far; counted up here.
    /// - Returns: The connection and the index of its URL, or `nil` once the task is cancelled
    ///   (at once, even in the middle of a connect that hangs).
    func connect(startingAt start: Int, failures: inout Int) async -> (io: AMQPConnectionThread, index: Int)? {
        let (broker, name, thread) = (configuration.broker, connectionName, "amqp-\(queue.name)")
        // Acks wait up to 1 ms, or for a quarter of the prefetch window, to share a frame: at
        // thousands of tasks a second that spares the broker most ack frames. A prefetch under
        // 4 (long tasks, one at a time) acks each task at once: the broker sends the next only then.
        let coalescing = AMQPConnectionThread.AckCoalescing(batch: queue.prefetch / 4, delay: .milliseconds(1))
        while !Task.isCancelled {
            do {
                let (io, index) = try await unlessCancelled {
                    try await broker.connectAny(name: name, threadName: thread, start: start, ackCoalescing: coalescing)
                } abandoned: {
                    await $0.connection.close()
                }
                logger.info("connected", metadata: ["broker": "\(broker.urls[index])"])
                return (io, index)
            } catch is CancellationError {
                return nil
            } catch {
                failures += 1
                let wait = BrokerConfig.reconnectDelay(afterFailures: failures)
                logger.warning(
                    "cannot connect to the broker; retrying",
                    metadata: [
                        "error": "\(error)", "retry.in": "\(wait.secondsText)", "attempt": "\(failures)",
                    ])
                guard (try? await Task.sleep(for: wait)) != nil else { return nil }
            }
        }
        return nil
    }

    /// Opens the channels, sets `basic.qos` to the queue's prefetch and registers the consumer.
    func startConsuming(on io: AMQPConnectionThread) async throws(AMQPError) {
        let (name, prefetch, tag) = (queue.name, UInt16(clamping: queue.prefetch), connectionName)
        try await io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel(Self.consumeChannel)
            try channel.setPrefetch(prefetch)
            _ = try connection.openChannel(Self.publishChannel)
            _ = try connection.openChannel(Self.replyChannel)
            try channel.consume(queue: name, consumerTag: tag)
        }
        logger.info("consuming", metadata: ["prefetch": "\(prefetch)", "concurrency": "\(queue.concurrency)"])
    }

    /// Runs each delivery of `io`, until the task is cancelled (returns `nil`: a warm shutdown)
    /// or the connection or its consumer is lost (returns why).
    func consume(on io: AMQPConnectionThread, slots: AsyncSlots, inFlight: InFlight) async -> (any Error)? {
        guard queue.concurrency == 1 else { return await receive(on: io, slots: slots, inFlight: inFlight, inline: false) }
        // One handler at a time: each delivery runs right in the loop that receives it, in
        // delivery order, with no task and no thread hop per delivery (at thousands of tasks a
        // second those hops cost more than decoding and running them). The loop is a task of
        // its own so that a warm shutdown, which cancels this one, does not cancel the handler
        // that is running: it stops the loop by ending the event stream instead, and the
        // deliveries still buffered in it go back to the queue (see `stopping`).
        let loop = Task { await self.receive(on: io, slots: slots, inFlight: inFlight, inline: true) }
        return await withTaskCancellationHandler {
            await loop.value
        } onCancel: {
            stopping.withLock { $0 = true }
            io.finishEvents()
        }
    }

    /// Takes the deliveries of `io` until its events end or the consumer is lost: each runs
    /// right here (`inline`, one handler at a time) or in a task of its own.
    private func receive(on io: AMQPConnectionThread, slots: AsyncSlots, inFlight: InFlight, inline: Bool) async -> (any Error)? {
        let tracker = DeliveryTracker()  // delivery tags belong to one channel of one connection
        for await event in io.events {
            if case .delivery(let delivery) = event {
                tracker.received(delivery.deliveryTag)
                inFlight.enter()
                if inline {
                    await process(delivery, io: io, tracker: tracker, slots: slots)
                    inFlight.leave()
                } else {
                    // Unstructured: a warm shutdown cancels the loop, not the running handlers; a
                    // terminating revoke cancels the one task.
                    let handle = DeliveryTask()
                    handle.set(
                        Task {
                            await self.process(delivery, io: io, tracker: tracker, slots: slots, cancel: handle)
                            inFlight.leave()
                        })
                }
            } else if let lost = await handle(event, io: io) {
                return lost
            }
        }
        if Task.isCancelled || stopping.withLock({ $0 }) { return nil }
        return io.failure ?? AMQPError(.connectionClosed, "the connection ended")
    }

    /// Deals with an event other than a delivery; returns why consuming must stop, if it must.
    private func handle(_ event: AMQPEvent, io: AMQPConnectionThread) async -> (any Error)? {
        switch event {
        case .consumerCancelled:
            return WorkerError(
                .consumerCancelled, "the broker cancelled the consumer of '\(queue.name)' (queue deleted, or its node went down)")
        case .channelClosed(let channel, let error) where channel == Self.consumeChannel:
            return error
        case .channelClosed(let channel, let error):
            logger.warning("channel closed by the broker; reopening", metadata: ["channel": "\(channel)", "error": "\(error)"])
            try? await io.perform { connection throws(AMQPError) in _ = try connection.openChannel(channel) }
            return nil
        default:
            return nil
        }
    }
}
