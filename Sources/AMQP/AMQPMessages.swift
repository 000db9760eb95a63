/// A message delivered to a consumer (`basic.deliver`) or fetched with `basic.get`.
///
/// Everything is copied out of librabbitmq's buffers, so a delivery may be kept, and sent to
/// other threads, for as long as needed. Acknowledge it on the channel it came from with its
/// ``deliveryTag``.
public struct AMQPDelivery: Sendable {
    /// The channel the message was delivered on; acks must go to the same channel.
    public var channel: UInt16
    /// The consumer that received it (empty for `basic.get`).
    public var consumerTag: String
    /// Identifies the delivery on its channel, for ack, nack and reject.
    public var deliveryTag: UInt64
    /// `true` when the broker delivered this message before and it was not acknowledged.
    public var redelivered: Bool
    /// The exchange it was published to (empty for the default exchange).
    public var exchange: String
    /// The routing key it was published with.
    public var routingKey: String
    /// Its properties and headers.
    public var properties: AMQPBasicProperties
    /// Its body.
    public var body: [UInt8]
    /// For `basic.get` only: messages left in the queue after this one.
    public var messageCount: UInt32?

    /// Creates a delivery (for tests and for code that builds deliveries itself).
    public init(
        channel: UInt16, consumerTag: String, deliveryTag: UInt64, redelivered: Bool, exchange: String,
        routingKey: String, properties: AMQPBasicProperties, body: [UInt8], messageCount: UInt32? = nil
    ) {
        self.channel = channel
        self.consumerTag = consumerTag
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
        self.messageCount = messageCount
    }
}

/// A `mandatory` message that the broker could not route and sent back (`basic.return`).
public struct AMQPReturnedMessage: Sendable {
    /// The channel it was published on.
    public var channel: UInt16
    /// Why it came back, e.g. 312 `NO_ROUTE`.
    public var replyCode: UInt16
    /// The broker's text, e.g. `NO_ROUTE`.
    public var replyText: String
    /// The exchange it was published to.
    public var exchange: String
    /// The routing key it was published with.
    public var routingKey: String
    /// Its properties as published.
    public var properties: AMQPBasicProperties
    /// Its body as published.
    public var body: [UInt8]
}

/// Something the broker sent that was not the reply to a request: what ``AMQPConnection/nextEvent(timeout:)``
/// returns.
public enum AMQPEvent: Sendable {
    /// A message for one of this connection's consumers.
    case delivery(AMQPDelivery)
    /// Publisher confirms: the broker took responsibility for the message with this sequence number
    /// (and, if `multiple`, for every earlier one on the channel).
    case publisherAck(channel: UInt16, sequence: UInt64, multiple: Bool)
    /// Publisher confirms: the broker could not take the message(s); they may be lost.
    case publisherNack(channel: UInt16, sequence: UInt64, multiple: Bool)
    /// A `mandatory` message that matched no queue.
    case returned(AMQPReturnedMessage)
    /// The broker cancelled a consumer (its queue was deleted, or a node failed over).
    case consumerCancelled(channel: UInt16, consumerTag: String)
    /// The broker closed a channel because of an error on it; the channel must be reopened
    /// (see ``AMQPConnection/openChannel(_:)``) and its consumers registered again.
    case channelClosed(channel: UInt16, error: AMQPError)
}
