import AMQP
import Foundation

/// Reads a queue of dead letters without losing any: the one safe way AMQP offers, as it has
/// no "peek".
///
/// One pass:
/// 1. a passive declare reads how many messages are ready (the *depth*);
/// 2. `basic.get` (with acks) fetches them in batches, **never more than the depth**, so a
///    message that arrives meanwhile (at the tail) is not read, and one read is never read twice;
/// 3. each message goes to the caller's `decide`, which says keep, drop or republish. Dropped
///    ones are acknowledged at the end of their batch; a republished one right after the broker
///    confirmed the republish, never before; a kept one stays unacknowledged until the pass ends;
/// 4. at the end every kept message is given back at once (`basic.nack` of all outstanding
///    deliveries, requeue) and the channel is closed.
///
/// Kept messages must stay unacknowledged until the end: RabbitMQ puts a requeued message back
/// at its original position, which is the head of the queue here, so giving one back early would
/// make the next `basic.get` return it again. If the process dies mid-pass, the broker requeues
/// everything it had not acknowledged, so nothing is ever lost.
///
/// **Order.** On a *classic* queue (the dead-letter and unrouted queues are classic) the kept
/// messages go back to their original places, in their order, ahead of any message that
/// arrived during the pass; only their `redelivered` flag is now set (observed on RabbitMQ
/// 3.10.8, whether given back by one `basic.nack`, one per message in any order, or by closing
/// the channel). On a *quorum* queue, RabbitMQ 3.10 does not keep that order: given-back
/// messages come back shuffled, some after messages that arrived meanwhile, and each one's
/// delivery count goes up (which counts towards an `x-delivery-limit`).
///
/// **Counts.** The depth is a snapshot: a message that another reader gives back at that moment
/// may not be counted yet (RabbitMQ applies requeues asynchronously), so a pass can read fewer
/// messages than the queue holds, never more. Run one pass per queue at a time: two concurrent
/// passes each see only what the other does not hold.
///
/// Memory holds one batch of messages at a time (``batchSize`` messages, ``batchBytes`` of
/// bodies), never the whole queue. Every broker call runs on the connection's own thread
/// (``AMQP/AMQPConnectionThread/perform(_:)``), never on Swift's cooperative pool.
package struct DeadLetterQueueReader: Sendable {
    /// The connection the pass runs on.
    package let io: AMQPConnectionThread
    /// The queue read.
    package let queue: String
    /// Messages fetched per round trip to the connection's thread. Defaults to 100.
    package var batchSize: Int
    /// A batch also ends once its bodies reach this many bytes. Defaults to 8 MiB.
    package var batchBytes: Int

    /// The channel messages are fetched and settled on.
    package static let readChannel: UInt16 = 1
    /// The channel republishes go out on, with publisher confirms.
    package static let publishChannel: UInt16 = 2

    /// A reader of `queue` over `io`. Channels 1 and 2 of `io` are this reader's.
    package init(io: AMQPConnectionThread, queue: String, batchSize: Int = 100, batchBytes: Int = 8 << 20) {
        self.io = io
        self.queue = queue
        self.batchSize = max(1, batchSize)
        self.batchBytes = max(1, batchBytes)
    }

    /// Ready messages in the queue now.
    /// - Throws: ``AMQP/AMQPError`` with ``AMQP/AMQPError/Code/channelClosed`` (404) when it does not exist.
    package func depth() async throws(AMQPError) -> Int {
        let queue = self.queue
        return try await io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel()
            defer { try? channel.close() }
            return Int(try channel.inspectQueue(queue).messageCount)
        }
    }

    /// Runs one pass over the messages ready now (see ``DeadLetterQueueReader``).
    ///
    /// - Parameters:
    ///   - limit: Read at most this many messages (the rest are not touched); `nil` for all.
    ///   - decide: Called once per message, in queue order; may stop the pass early by
    ///     returning `nil` (that message and the rest stay, in place).
    /// - Returns: What was done.
    /// - Throws: ``AMQP/AMQPError`` when the queue does not exist or the connection failed; the
    ///   broker then gives back everything not yet acknowledged.
    package func process(limit: Int? = nil, _ decide: (DeadLetter) -> DeadLetterDecision?) async throws(AMQPError)
        -> DeadLetterReadReport
    {
        let (queue, batchSize, batchBytes) = (self.queue, self.batchSize, self.batchBytes)
        var report = DeadLetterReadReport()
        report.depth = try await io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel(Self.readChannel)
            let depth = try channel.inspectQueue(queue).messageCount  // a missing queue closes the channel
            do throws(AMQPError) {
                _ = try connection.openChannel(Self.publishChannel)
            } catch {
                try? channel.close()
                throw error
            }
            return Int(depth)
        }
        let target = min(report.depth, limit ?? .max)
        var stopped = false
        do throws(AMQPError) {
            while report.examined < target, !stopped {
                let wanted = min(batchSize, target - report.examined)
                let batch = try await io.perform { connection throws(AMQPError) in
                    let channel = try connection.channel(Self.readChannel)
                    var batch: [AMQPDelivery] = []
                    var bytes = 0
                    while batch.count < wanted, bytes < batchBytes, let delivery = try channel.get(queue: queue, noAck: false) {
                        batch.append(delivery)
                        bytes += delivery.body.count
                    }
                    return batch
                }
                if batch.isEmpty { break }  // someone else emptied the queue meanwhile
                var acks: [UInt64] = []
                for delivery in batch {
                    // Once stopped, the rest of the batch stays unacknowledged: given back below.
                    guard !stopped, let decision = decide(DeadLetter(delivery: delivery)) else {
                        stopped = true
                        continue
                    }
                    report.examined += 1
                    switch decision {
                    case .keep:
                        report.kept += 1
                    case .drop:
                        acks.append(delivery.deliveryTag)
                        report.dropped += 1
                    case .republish(let route, let properties):
                        if let failure = await republish(delivery, to: route, properties: properties) {
                            report.failures.append(failure)
                            report.kept += 1
                        } else {
                            // At once: the shorter the time between the confirm and this ack,
                            // the smaller the chance that a crash replays it twice.
                            try await settle([delivery.deliveryTag])
                            report.republished[route, default: 0] += 1
                        }
                    }
                }
                try await settle(acks)
            }
        } catch {
            await giveBack()
            throw error
        }
        await giveBack()
        return report
    }

    /// Publishes a copy with confirms; `nil` once the broker confirmed it, else why not.
    private func republish(_ delivery: AMQPDelivery, to route: DeadLetterRoute, properties: AMQPBasicProperties) async
        -> String?
    {
        let what = "\(delivery.properties.headers?["id"]?.stringValue ?? "message \(delivery.deliveryTag)") to \(route)"
        do {
            let outcome = try await io.publish(
                delivery.body, exchange: route.exchange, routingKey: route.routingKey, mandatory: true,
                properties: properties, on: Self.publishChannel)
            switch outcome {
            case .acked: return nil
            case .nacked: return "the broker refused \(what) (basic.nack); kept"
            case .returned(let r): return "\(what) was returned (\(r.replyCode) \(r.replyText)); kept"
            }
        } catch {
            if error.code == .channelClosed {  // e.g. a missing exchange: reopen for the next one
                try? await io.perform { connection throws(AMQPError) in _ = try connection.openChannel(Self.publishChannel) }
            }
            return "republishing \(what) failed: \(error); kept"
        }
    }

    private func settle(_ tags: [UInt64]) async throws(AMQPError) {
        guard !tags.isEmpty else { return }
        try await io.perform { connection throws(AMQPError) in
            let channel = try connection.channel(Self.readChannel)
            for tag in tags { try channel.ack(tag) }
        }
    }

    /// Gives back every delivery not acknowledged, in one `basic.nack` (tag 0 + multiple: all
    /// outstanding), and closes the channels. Harmless on a dead connection.
    private func giveBack() async {
        try? await io.perform { connection throws(AMQPError) in
            guard let channel = try? connection.channel(Self.readChannel) else { return }
            try? channel.nack(0, multiple: true, requeue: true)
            try? channel.close()
            try? connection.channel(Self.publishChannel).close()
        }
    }
}
