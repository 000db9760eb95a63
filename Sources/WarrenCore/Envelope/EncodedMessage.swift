import AMQP

/// An AMQP message ready to publish: its properties (headers included) and body.
package struct EncodedMessage: Sendable, Hashable {
    /// The properties, headers included.
    package var properties: AMQPBasicProperties
    /// The body: UTF-8 JSON.
    package var body: [UInt8]

    /// A message.
    package init(properties: AMQPBasicProperties, body: [UInt8]) {
        self.properties = properties
        self.body = body
    }
}
