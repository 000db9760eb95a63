import AMQP
import Testing

@Suite("Publisher confirms", .serialized, .enabled(if: TestBroker.available, TestBroker.skipReason))
struct ConfirmTests {
    @Test("the broker acks every confirmed publish")
    func acks() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let channel = try connection.openChannel()
        let queue = try channel.declareQueue(TestBroker.uniqueName("confirm"), exclusive: true).name
        try channel.enableConfirms()
        var sequences: [UInt64] = []
        for i in 0..<500 {
            sequences.append(
                try #require(try channel.publish([UInt8(i % 256)], routingKey: queue, properties: .init(deliveryMode: .persistent))))
        }
        #expect(sequences == Array(1...500))
        let result = try channel.waitForConfirms(timeout: .seconds(10))
        #expect(result.allAcked && result.returned.isEmpty)
        #expect(channel.unconfirmedSequences.isEmpty)
        #expect(try channel.inspectQueue(queue).messageCount == 500)
        #expect(try channel.publishConfirmed([1], routingKey: queue) == .acked)
    }

    @Test("a mandatory message that matches no queue comes back with NO_ROUTE")
    func mandatoryUnroutableIsReturned() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let channel = try connection.openChannel()
        let exchange = TestBroker.uniqueName("ex")
        try channel.declareExchange(exchange, type: "topic", durable: false, autoDelete: false)
        defer { try? channel.deleteExchange(exchange) }
        let outcome = try channel.publishConfirmed(
            Array("lost?".utf8), exchange: exchange, routingKey: "no.such.route", mandatory: true,
            properties: .init(messageID: "m-42"))
        guard case .returned(let message) = outcome else {
            Issue.record("expected the message back, got \(outcome)")
            return
        }
        #expect(message.replyCode == 312 && message.replyText == "NO_ROUTE")
        #expect(message.exchange == exchange && message.routingKey == "no.such.route")
        #expect(message.body == Array("lost?".utf8) && message.properties.messageID == "m-42")
        // Without mandatory the broker just drops it, and still acks.
        #expect(try channel.publishConfirmed([0], exchange: exchange, routingKey: "no.such.route") == .acked)
    }

    @Test("deliveries that arrive while waiting for confirms are kept for the event loop")
    func deliveriesDuringConfirmWaitAreKept() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let consumer = try connection.openChannel()
        let publisher = try connection.openChannel()
        let queue = try consumer.declareQueue(TestBroker.uniqueName("interleave"), exclusive: true).name
        try consumer.consume(queue: queue, noAck: true)
        for i in 0..<20 {
            #expect(try publisher.publishConfirmed([UInt8(i)], routingKey: queue) == .acked)
        }
        var bodies: [[UInt8]] = []
        for _ in 0..<20 { bodies.append(try connection.nextDelivery().body) }
        #expect(bodies == (0..<20).map { [UInt8($0)] })
    }
}

extension AMQPChannel.PublishOutcome {
    static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.acked, .acked), (.nacked, .nacked): true
        default: false
        }
    }
}
