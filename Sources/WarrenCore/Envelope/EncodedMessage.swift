import AMQP

/// An AMQP message ready to publish: its properties (headers included) and body.
public struct EncodedMessage: Sendable, Hashable {
    /// The properties, headers included.
    public var properties: AMQPBasicProperties
    /// The body: UTF-8 JSON.
    public var body: [UInt8]

    /// A message.
    public init(properties: AMQPBasicProperties, body: [UInt8]) {
        self.properties = properties
        self.body = body
    }
}
