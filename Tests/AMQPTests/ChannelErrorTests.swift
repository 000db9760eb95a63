import AMQP
import Testing

@Suite("Channel errors", .serialized, .enabled(if: TestBroker.available, TestBroker.skipReason))
struct ChannelErrorTests {
    @Test("a conflicting declare surfaces PRECONDITION_FAILED with the broker's text; the reopened channel works")
    func preconditionFailedThenReopen() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let channel = try connection.openChannel()
        let queue = TestBroker.uniqueName("quorum")
        try channel.declareQueue(queue, durable: true, arguments: ["x-queue-type": "quorum"])
        defer { _ = try? connection.openChannel().deleteQueue(queue) }

        let error = #expect(throws: AMQPError.self) {
            try channel.declareQueue(queue, durable: true, arguments: ["x-queue-type": "classic"])
        }
        #expect(error?.code == .channelClosed)
        #expect(error?.serverClose?.replyCode == 406)
        #expect(error?.description.hasPrefix("PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue '\(queue)'") == true)
        #expect(error?.description.contains("queue.declare") == true)
        #expect(!channel.isOpen && connection.isOpen)

        // The closed channel refuses further use, clearly.
        let closed = #expect(throws: AMQPError.self) { try channel.inspectQueue(queue) }
        #expect(closed?.code == .channelClosed)

        let reopened = try connection.openChannel(channel.id)
        #expect(reopened.id == channel.id)
        #expect(try reopened.inspectQueue(queue).messageCount == 0)
    }

    @Test("a passive declare of a missing queue is NOT_FOUND")
    func notFound() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let channel = try connection.openChannel()
        let error = #expect(throws: AMQPError.self) { try channel.inspectQueue("t-does-not-exist") }
        #expect(error?.serverClose?.replyCode == 404)
        #expect(error?.description.hasPrefix("NOT_FOUND - no queue 't-does-not-exist'") == true)
    }

    @Test("publishing to a missing exchange closes the channel asynchronously, reported as an event")
    func asyncChannelClose() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let channel = try connection.openChannel()
        try channel.publish([1], exchange: "t-no-such-exchange", routingKey: "x")
        let error = try connection.waitFor("channel.close") { event -> AMQPError? in
            if case .channelClosed(let ch, let e) = event, ch == channel.id { e } else { nil }
        }
        #expect(error.serverClose?.replyCode == 404)
        #expect(error.description.contains("no exchange 't-no-such-exchange'"))
        #expect(try connection.openChannel(channel.id).isOpen)
    }

    @Test("exchanges: declare with an alternate exchange, bind, unbind, delete")
    func exchangeLifecycle() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let channel = try connection.openChannel()
        let main = TestBroker.uniqueName("main"), alt = TestBroker.uniqueName("alt")
        try channel.declareExchange(alt, type: "fanout", durable: false)
        try channel.declareExchange(main, type: "topic", durable: false, arguments: ["alternate-exchange": .string(alt)])
        defer { try? channel.deleteExchange(main); try? channel.deleteExchange(alt) }
        let routed = try channel.declareQueue(TestBroker.uniqueName("routed"), exclusive: true).name
        let unrouted = try channel.declareQueue(TestBroker.uniqueName("unrouted"), exclusive: true).name
        try channel.bindQueue(routed, to: main, routingKey: "a.*")
        try channel.bindQueue(unrouted, to: alt, routingKey: "")
        #expect(try channel.publishConfirmed([1], exchange: main, routingKey: "a.b") == .acked)
        #expect(try channel.publishConfirmed([2], exchange: main, routingKey: "zzz") == .acked)
        #expect(try channel.get(queue: routed, noAck: true)?.body == [1])
        #expect(try channel.get(queue: unrouted, noAck: true)?.body == [2])
        try channel.unbindQueue(routed, from: main, routingKey: "a.*")
        #expect(try channel.publishConfirmed([3], exchange: main, routingKey: "a.b") == .acked)
        #expect(try channel.get(queue: routed, noAck: true) == nil)
        #expect(try channel.get(queue: unrouted, noAck: true)?.body == [3])
        try channel.bindQueue(routed, to: main, routingKey: "#")
        #expect(try channel.purgeQueue(routed) == 0)
        #expect(try channel.publishConfirmed([4], exchange: main, routingKey: "x") == .acked)
        #expect(try channel.purgeQueue(routed) == 1)
    }
}
