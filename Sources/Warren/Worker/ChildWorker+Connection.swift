import AMQP
import Foundation

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
        while !Task.isCancelled {
            do {
                let (io, index) = try await unlessCancelled {
                    try await broker.connectAny(name: name, threadName: thread, start: start)
                } abandoned: { await $0.connection.close() }
                logger.info("connected", metadata: ["broker": "\(broker.urls[index])"])
                return (io, index)
            } catch is CancellationError {
                return nil
            } catch {
                failures += 1
                let wait = BrokerConfig.reconnectDelay(afterFailures: failures)
                logger.warning("cannot connect to the broker; retrying", metadata: [
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

    /// Hands each delivery of `io` to a handler task, until the task is cancelled (returns
    /// `nil`) or the connection or its consumer is lost (returns why).
    func consume(on io: AMQPConnectionThread, slots: AsyncSlots, inFlight: InFlight) async -> (any Error)? {
        let tracker = DeliveryTracker()  // delivery tags belong to one channel of one connection
        let name = queue.name
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
                return WorkerError("the broker cancelled the consumer of '\(name)' (queue deleted, or its node went down)")
            case .channelClosed(let channel, let error) where channel == Self.consumeChannel:
                return error
            case .channelClosed(let channel, let error):
                logger.warning("channel closed by the broker; reopening", metadata: ["channel": "\(channel)", "error": "\(error)"])
                try? await io.perform { connection throws(AMQPError) in _ = try connection.openChannel(channel) }
            default:
                break
            }
        }
        if Task.isCancelled { return nil }
        return io.failure ?? AMQPError(.connectionClosed, "the connection ended")
    }
}
