import AMQP
import Testing

@Suite("Publish and consume", .serialized, .enabled(if: TestBroker.available, TestBroker.skipReason))
struct MessageRoundTripTests {
    /// Every field kind RabbitMQ accepts in a table, nested in a table and an array too.
    static let everyKind: AMQPTable = [
        "bool": .bool(true), "i8": .int8(-8), "u8": .uint8(200), "i16": .int16(-1600), "u16": .uint16(60_000),
        "i32": .int32(-320_000), "u32": .uint32(4_000_000_000), "i64": .int64(-6_400_000_000_000), "u64": .uint64(.max - 1),
        "f32": .float(1.5), "f64": .double(-2.25), "decimal": .decimal(scale: 2, value: 12345),
        "utf8": .string("héllo ✓"), "bytes": .bytes([0, 1, 0xfe, 0xff]), "timestamp": .timestamp(1_700_000_000),
        "void": .void, "array": .array([.int32(1), .string("two"), .array([.bool(false)]), .void]),
        "table": .table(["inner": .table(["deep": .int64(42)]), "list": .array([])]),
    ]

    @Test("every basic property and every header kind survives a round trip through the broker")
    func everyPropertyRoundTrips() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let channel = try connection.openChannel()
        let queue = try channel.declareQueue(TestBroker.uniqueName("props"), exclusive: true).name
        let properties = AMQPBasicProperties(
            contentType: "application/json", contentEncoding: "utf-8", headers: Self.everyKind, deliveryMode: .persistent,
            priority: 7, correlationID: "corr-1", replyTo: "replies", expiration: "60000", messageID: "msg-1",
            timestamp: 1_700_000_123, type: "demo.type", userID: "guest", appID: "warren-tests", clusterID: nil)
        try channel.publish(Array("{\"x\":1}".utf8), routingKey: queue, properties: properties)
        try channel.consume(queue: queue)
        let delivery = try connection.nextDelivery()
        #expect(delivery.properties == properties)
        #expect(delivery.properties.headers?.keys == Self.everyKind.keys)  // wire order kept
        #expect(delivery.body == Array("{\"x\":1}".utf8))
        #expect(delivery.routingKey == queue && delivery.exchange == "" && !delivery.redelivered)
        try channel.ack(delivery.deliveryTag)
    }

    @Test("a body larger than the frame size arrives whole")
    func largeBody() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let channel = try connection.openChannel()
        let queue = try channel.declareQueue(TestBroker.uniqueName("big"), exclusive: true).name
        let body = (0..<(3 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try channel.publish(body, routingKey: queue)
        let got = try #require(try channel.get(queue: queue, noAck: true))
        #expect(got.body == body)
    }

    @Test("basic.get reports what is left; nack requeues and marks redelivered; reject drops to the dead-letter exchange")
    func getNackReject() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let channel = try connection.openChannel()
        let dead = try channel.declareQueue(TestBroker.uniqueName("dead"), exclusive: true).name
        let queue = try channel.declareQueue(
            TestBroker.uniqueName("work"), exclusive: true,
            arguments: ["x-dead-letter-exchange": "", "x-dead-letter-routing-key": .string(dead)]
        ).name
        try channel.enableConfirms()
        for i in 1...3 { try channel.publish(Array("m\(i)".utf8), routingKey: queue) }
        #expect(try channel.waitForConfirms(timeout: .seconds(10)).allAcked)  // now they are enqueued
        #expect(try channel.inspectQueue(queue).messageCount == 3)

        let first = try #require(try channel.get(queue: queue))
        #expect(first.body == Array("m1".utf8) && first.messageCount == 2)
        try channel.nack(first.deliveryTag, requeue: true)
        let again = try #require(try channel.get(queue: queue))
        #expect(again.body == Array("m1".utf8) && again.redelivered)
        try channel.reject(again.deliveryTag, requeue: false)

        // Dead-lettering happens asynchronously: consume and await it.
        try channel.consume(queue: dead, noAck: true)
        let dl = try connection.nextDelivery()
        #expect(dl.body == Array("m1".utf8))
        let death = dl.properties.headers?["x-death"]?.arrayValue?.first?.tableValue
        #expect(death?["reason"]?.stringValue == "rejected")

        // ack multiple: the two remaining in one go
        _ = try #require(try channel.get(queue: queue))
        let last = try #require(try channel.get(queue: queue))
        try channel.ack(last.deliveryTag, multiple: true)
        #expect(try channel.get(queue: queue) == nil)
        try channel.close()
        #expect(try connection.openChannel().inspectQueue(queue).messageCount == 0)
    }

    @Test("prefetch limits unacknowledged deliveries; acking lets the next one through")
    func prefetch() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let channel = try connection.openChannel()
        let queue = try channel.declareQueue(TestBroker.uniqueName("qos"), exclusive: true).name
        for i in 0..<5 { try channel.publish([UInt8(i)], routingKey: queue) }
        try channel.setPrefetch(2)
        let tag = try channel.consume(queue: queue, consumerTag: "c-qos")
        #expect(tag == "c-qos")
        let a = try connection.nextDelivery()
        let b = try connection.nextDelivery()
        #expect(a.consumerTag == "c-qos" && [a.body, b.body] == [[0], [1]])
        #expect(try connection.nextEvent(timeout: .milliseconds(300)) == nil)  // held back by prefetch 2
        try channel.ack(a.deliveryTag)
        #expect(try connection.nextDelivery().body == [2])
        try channel.cancel(consumerTag: tag)
    }

    @Test("deleting a consumed queue cancels the consumer with an event")
    func consumerCancelled() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let channel = try connection.openChannel()
        let queue = try channel.declareQueue(TestBroker.uniqueName("gone"), exclusive: false, autoDelete: false).name
        let tag = try channel.consume(queue: queue)
        let other = try connection.openChannel()
        try other.deleteQueue(queue)
        let cancelled = try connection.waitFor("cancel") { event -> String? in
            if case .consumerCancelled(_, let t) = event { t } else { nil }
        }
        #expect(cancelled == tag)
    }
}
