import AMQP
import Foundation
import Testing

/// Acks that wait to share a frame (``AMQPConnectionThread/AckCoalescing``), observed through
/// the broker: with a full prefetch window it sends the next message only once acks arrived.
@Suite("Ack coalescing", .serialized, .enabled(if: TestBroker.available, TestBroker.skipReason))
struct AckCoalescingTests {
    /// A connection thread consuming `queue` with `prefetch`, its acks coalesced as given.
    private func consumer(_ queue: String, prefetch: UInt16, _ coalescing: AMQPConnectionThread.AckCoalescing) async throws
        -> AMQPConnectionThread
    {
        let io = try await AMQPConnectionThread(
            TestBroker.configuration(heartbeat: .zero), idleWait: .seconds(60), ackCoalescing: coalescing)
        try await io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel()
            try channel.setPrefetch(prefetch)
            try channel.consume(queue: queue)
        }
        return io
    }

    @Test("a full batch of acks goes out at once, without waiting for the delay")
    func fullBatchGoesOutAtOnce() async throws {
        let queue = try ConnectionThreadTests.queue(with: 8, "coalesce-batch")
        let io = try await consumer(queue, prefetch: 4, .init(batch: 4, delay: .seconds(60)))
        // Prefetch 4: messages 5-8 come only once the broker has the acks of 1-4.
        let received = try await withTimeout(.seconds(10)) { () async -> Int in
            var count = 0
            for await event in io.events {
                guard case .delivery(let d) = event else { continue }
                count += 1
                io.ack(d, multiple: true)
                if count == 8 { break }
            }
            return count
        }
        #expect(received == 8)
        await io.close()
    }

    @Test("fewer acks than a batch go out after the delay, not before")
    func loneAckWaitsForTheDelay() async throws {
        let queue = try ConnectionThreadTests.queue(with: 3, "coalesce-delay")
        let delay = Duration.milliseconds(400)
        let io = try await consumer(queue, prefetch: 2, .init(batch: 2, delay: delay))
        let waited = try await withTimeout(.seconds(10)) { () async -> Duration in
            var count = 0
            var acked = ContinuousClock.now
            for await event in io.events {
                guard case .delivery(let d) = event else { continue }
                count += 1
                if count == 1 {
                    acked = .now
                    io.ack(d, multiple: true)  // one ack of a batch of 2: it waits
                }
                if count == 3 { break }  // the window (2) had room again: the ack reached the broker
            }
            return ContinuousClock.now - acked
        }
        #expect(waited >= delay - .milliseconds(5), "the third message came \(waited) after the ack")
        await io.close()
    }

    @Test("closing sends the acks still waiting: nothing acknowledged goes back to the queue")
    func closeFlushesWaitingAcks() async throws {
        let queue = try ConnectionThreadTests.queue(with: 3, "coalesce-close", autoDelete: false)
        let io = try await consumer(queue, prefetch: 10, .init(batch: 100, delay: .seconds(60)))
        _ = try await withTimeout(.seconds(10)) { () async -> Int in
            var count = 0
            for await event in io.events {
                guard case .delivery(let d) = event else { continue }
                count += 1
                io.ack(d, multiple: true)
                if count == 3 { break }
            }
            return count
        }
        await io.close()
        let check = try TestBroker.connect()
        defer { check.close() }
        let channel = try check.openChannel()
        #expect(try channel.inspectQueue(queue).messageCount == 0)  // acked on close, not requeued
        try channel.deleteQueue(queue)
    }

    @Test("a message published later waits with the acks, then goes out in order, before the acks queued after it")
    func publishLaterGoesOutWithTheAcks() async throws {
        let queue = try ConnectionThreadTests.queue(with: 3, "coalesce-publish", autoDelete: false)
        let replies = try ConnectionThreadTests.queue(with: 0, "coalesce-replies", autoDelete: false)
        let io = try await consumer(queue, prefetch: 10, .init(batch: 100, delay: .seconds(60)))
        try await io.perform { connection throws(AMQPError) in _ = try connection.openChannel(2) }
        _ = try await withTimeout(.seconds(10)) { () async -> Int in
            var count = 0
            for await event in io.events {
                guard case .delivery(let d) = event else { continue }
                io.publishLater(Array("reply \(String(decoding: d.body, as: UTF8.self))".utf8), routingKey: replies, on: 2)
                io.ack(d, multiple: true)
                count += 1
                if count == 3 { break }
            }
            return count
        }
        let check = try TestBroker.connect()
        defer { check.close() }
        let channel = try check.openChannel()
        // Three replies and three acks are fewer than a batch, and the delay is a minute: all wait.
        #expect(try channel.inspectQueue(replies).messageCount == 0)
        await io.close()  // sends what waits, in order
        var bodies: [String] = []
        while let reply = try channel.get(queue: replies, noAck: true) { bodies.append(String(decoding: reply.body, as: UTF8.self)) }
        #expect(bodies == ["reply 0", "reply 1", "reply 2"])
        #expect(try channel.inspectQueue(queue).messageCount == 0)  // the acks went too
        try channel.deleteQueue(queue)
        try channel.deleteQueue(replies)
    }
}
