/// The basic properties of a message (AMQP 0-9-1 content header). Every field is optional;
/// only the ones set are sent.
public struct AMQPBasicProperties: Sendable, Hashable {
    /// How the broker stores a message.
    public enum DeliveryMode: UInt8, Sendable, Hashable {
        /// Kept in memory where possible; lost when the broker restarts.
        case transient = 1
        /// Written to disk by durable queues; survives a broker restart.
        case persistent = 2
    }

    /// MIME type of the body, e.g. `application/json`.
    public var contentType: String?
    /// Encoding of the body, e.g. `utf-8`.
    public var contentEncoding: String?
    /// Application headers.
    public var headers: AMQPTable?
    /// Transient or persistent.
    public var deliveryMode: DeliveryMode?
    /// Priority 0-9 (queues need `x-max-priority`).
    public var priority: UInt8?
    /// Correlates a reply with its request (Celery: the task id).
    public var correlationID: String?
    /// The queue a reply should be sent to.
    public var replyTo: String?
    /// Per-message TTL in milliseconds, as a decimal string (AMQP's own convention).
    public var expiration: String?
    /// Application message id.
    public var messageID: String?
    /// Publish time, whole seconds since the Unix epoch.
    public var timestamp: UInt64?
    /// Application message type.
    public var type: String?
    /// The publishing user; RabbitMQ rejects the message unless it is the connection's user.
    public var userID: String?
    /// The publishing application.
    public var appID: String?
    /// Reserved by AMQP 0-9-1 (`cluster-id`); RabbitMQ ignores it.
    public var clusterID: String?

    /// Properties with every field unset, or the ones given.
    public init(
        contentType: String? = nil,
        contentEncoding: String? = nil,
        headers: AMQPTable? = nil,
        deliveryMode: DeliveryMode? = nil,
        priority: UInt8? = nil,
        correlationID: String? = nil,
        replyTo: String? = nil,
        expiration: String? = nil,
        messageID: String? = nil,
        timestamp: UInt64? = nil,
        type: String? = nil,
        userID: String? = nil,
        appID: String? = nil,
        clusterID: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
        self.clusterID = clusterID
    }
}
