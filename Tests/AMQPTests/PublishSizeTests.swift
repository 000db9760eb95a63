import AMQP
import Testing

/// Properties that librabbitmq cannot encode are refused before anything is sent, and the
/// connection goes on: `amqp_basic_publish` sends the method frame before it encodes the
/// content header, so a failure there used to leave a half-sent message and a broker that closed
/// the connection with UNEXPECTED_FRAME at the next frame.
@Suite("Publish size checks", .serialized, .enabled(if: TestBroker.available, TestBroker.skipReason))
struct PublishSizeTests {
    /// Properties with every header kind and every short-string field, padded with a string
    /// header so that they take exactly `size` bytes.
    static func properties(size: Int) -> AMQPBasicProperties {
        var properties = AMQPBasicProperties(
            contentType: "application/json", contentEncoding: "utf-8", headers: MessageRoundTripTests.everyKind,
            deliveryMode: .persistent, priority: 1, correlationID: "c", replyTo: "r", expiration: "60000", messageID: "m",
            timestamp: 1, type: "t", userID: "guest", appID: "a")
        properties.headers?["pad"] = ""
        let missing = size - properties.encodedSize
        properties.headers?["pad"] = .string(String(repeating: "p", count: missing))
        return properties
    }

    @Test("properties that exactly fill a frame are sent; one byte more is refused, nothing sent, and the connection goes on")
    func exactFrameFit() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let frameMax = connection.frameMax
        #expect(frameMax > 4096)
        let channel = try connection.openChannel()
        let queue = try channel.declareQueue(TestBroker.uniqueName("size"), exclusive: true).name

        let fits = Self.properties(size: frameMax - AMQPBasicProperties.contentHeaderOverhead)
        #expect(fits.encodedSize + AMQPBasicProperties.contentHeaderOverhead == frameMax)
        #expect(fits.fits(frameMax: frameMax))
        try channel.publish([1], routingKey: queue, properties: fits)
        let got = try #require(try channel.get(queue: queue, noAck: true))
        #expect(got.properties == fits)

        let over = Self.properties(size: frameMax - AMQPBasicProperties.contentHeaderOverhead + 1)
        #expect(!over.fits(frameMax: frameMax))
        let error = #expect(throws: AMQPError.self) { try channel.publish([2], routingKey: queue, properties: over) }
        #expect(error?.code == .invalidArgument)
        #expect(connection.isOpen)

        // Nothing half-sent: the next message goes through on the same channel.
        try channel.publish([3], routingKey: queue)
        #expect(try channel.get(queue: queue, noAck: true)?.body == [3])
        #expect(try channel.get(queue: queue, noAck: true) == nil)
    }

    @Test(
        "a short string over 255 bytes (correlation_id), a header name over 255 bytes, a routing key over 255 bytes: refused, the connection goes on"
    )
    func overlongShortStrings() throws {
        let connection = try TestBroker.connect()
        defer { connection.close() }
        let channel = try connection.openChannel()
        let queue = try channel.declareQueue(TestBroker.uniqueName("short"), exclusive: true).name
        let long = String(repeating: "i", count: 256)
        var cases: [(String, AMQPBasicProperties)] = [("correlation_id", AMQPBasicProperties(correlationID: long))]
        cases.append(("header name", AMQPBasicProperties(headers: AMQPTable([(long, .void)]))))
        cases.append(("nested header name", AMQPBasicProperties(headers: ["t": .array([.table(AMQPTable([(long, .int8(1))]))])])))
        for (what, properties) in cases {
            let error = #expect(throws: AMQPError.self, "\(what)") { try channel.publish([1], routingKey: queue, properties: properties) }
            #expect(error?.code == .invalidArgument)
        }
        let error = #expect(throws: AMQPError.self) { try channel.publish([1], routingKey: long) }
        #expect(error?.code == .invalidArgument)
        #expect(connection.isOpen)
        try channel.publish([4], routingKey: queue, properties: AMQPBasicProperties(correlationID: String(repeating: "i", count: 255)))
        let got = try #require(try channel.get(queue: queue, noAck: true))
        #expect(got.body == [4] && got.properties.correlationID?.utf8.count == 255)
    }
}
