import AMQP
import Foundation
import Testing

@Suite("Connection thread", .serialized, .enabled(if: TestBroker.available, TestBroker.skipReason))
struct ConnectionThreadTests {
    /// Declares a queue holding `count` messages on a separate connection; returns its name.
    static func queue(with count: Int, _ what: String, autoDelete: Bool = true) throws -> String {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let channel = try connection.openChannel()
        let name = try channel.declareQueue(TestBroker.uniqueName(what), autoDelete: autoDelete).name
        try channel.enableConfirms()
        for i in 0..<count { try channel.publish(Array("\(i)".utf8), routingKey: name) }
        _ = try channel.waitForConfirms(timeout: .seconds(10))
        return name
    }

    @Test("an ack from another thread wakes the loop while it waits on the socket")
    func ackFromAnotherThreadWakesTheLoop() async throws {
        let queue = try Self.queue(with: 2, "wake")
        // No heartbeats and a 60 s idle wait: without the waker, a queued ack would sit for a minute.
        let io = try await AMQPConnectionThread(TestBroker.configuration(heartbeat: .zero), idleWait: .seconds(60))
        try await io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel()
            try channel.setPrefetch(1)
            try channel.consume(queue: queue)
        }
        // Prefetch 1: the second message comes only after the first is acked. Ack from a plain
        // thread (not a task), as a handler's thread would.
        let bodies = try await withTimeout(.seconds(10)) { () async -> [[UInt8]] in
            var bodies: [[UInt8]] = []
            for await event in io.events {
                guard case .delivery(let d) = event else { continue }
                bodies.append(d.body)
                if bodies.count == 2 { break }
                Thread.detachNewThread { io.ack(d) }
            }
            return bodies
        }
        #expect(bodies == [Array("0".utf8), Array("1".utf8)])
        await io.close()
        #expect(io.failure == nil)
    }

    @Test("heartbeats and acks flow while a handler holds a message for 5 heartbeat intervals")
    func longHandlerKeepsConnectionAlive() async throws {
        let queue = try Self.queue(with: 1, "long", autoDelete: false)
        let io = try await AMQPConnectionThread(TestBroker.configuration(heartbeat: .seconds(1)))
        #expect(io.heartbeat == .seconds(1))
        try await io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel()
            try channel.setPrefetch(1)
            try channel.consume(queue: queue)
        }
        var events = io.events.makeAsyncIterator()
        guard case .delivery(let delivery) = await events.next() else { Issue.record("no delivery"); return }
        try await Task.sleep(for: .seconds(5))  // the "handler" runs; the I/O thread keeps heartbeats going
        #expect(io.failure == nil)
        io.ack(delivery)
        // The queue is empty and nothing was redelivered: the ack went out on the live connection.
        let info = try await io.perform { connection throws(AMQPError) in try connection.channel(1).inspectQueue(queue) }
        #expect(info.messageCount == 0)
        await io.close()
        let check = try TestBroker.connect()
        defer { check.close() }
        let channel = try check.openChannel()
        #expect(try channel.inspectQueue(queue).messageCount == 0)  // not requeued on close: it was acked
        try channel.deleteQueue(queue)
    }

    @Test("confirmed publishes through the thread; an unroutable mandatory message is returned to its publisher")
    func publishThroughThread() async throws {
        let queue = try Self.queue(with: 0, "pub")
        let io = try await AMQPConnectionThread(TestBroker.configuration())
        try await io.perform { connection throws(AMQPError) in _ = try connection.openChannel(7) }
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<100 {
                group.addTask {
                    let o = try await io.publish(Array("\(i)".utf8), routingKey: queue, properties: .init(messageID: "m\(i)"), on: 7)
                    if case .acked = o { return true } else { return false }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.count == 100 && outcomes.allSatisfy { $0 })
        let returned = try await io.publish([1], routingKey: "t-nowhere", mandatory: true, properties: .init(messageID: "lost"), on: 7)
        guard case .returned(let m) = returned else { Issue.record("expected returned, got \(returned)"); return }
        #expect(m.properties.messageID == "lost" && m.replyCode == 312)
        await io.close()
    }

    @Test("a dead connection ends the event stream and fails later calls at once")
    func deathIsReported() async throws {
        var configuration = TestBroker.configuration()
        let name = TestBroker.uniqueName("thread-doomed")
        configuration.connectionName = name
        let io = try await AMQPConnectionThread(configuration)
        guard try TestBroker.closeConnection(named: name, reason: "bye") else {
            try #require(!TestBroker.required, "WARREN_TEST_RABBITMQ_NODE must be set when the broker is required")
            return
        }
        for await _ in io.events {}  // finishes when the connection dies
        #expect(io.failure?.code == .connectionClosed)
        await #expect(throws: AMQPError.self) {
            try await io.perform { connection throws(AMQPError) in _ = try connection.openChannel() }
        }
        await io.close()
    }

    @Test("a failed connect throws from the initializer")
    func connectFailure() async throws {
        var c = TestBroker.configuration()
        c.password = "nope"
        await #expect(throws: AMQPError.self) { try await AMQPConnectionThread(c) }
    }
}

/// Runs `body`, failing if it takes longer than `limit`.
func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw AMQPError(.timeout, "timed out after \(limit)")
        }
        group.cancelAll()
        return value
    }
}
