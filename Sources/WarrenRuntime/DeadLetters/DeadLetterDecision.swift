import AMQP

/// What ``DeadLetterQueueReader`` does with one message, as its caller decides.
package enum DeadLetterDecision: Sendable {
    /// Leave it in the queue, in its place.
    case keep
    /// Remove it (acknowledge it).
    case drop
    /// Publish its body, with these properties, to this route, and remove it once the broker
    /// confirmed the publish; if the broker refuses or returns it, keep it.
    case republish(DeadLetterRoute, AMQPBasicProperties)
}

/// Where a dead letter is sent again: an exchange and a routing key.
package struct DeadLetterRoute: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The exchange (`""` is the default exchange, which routes to the queue named ``routingKey``).
    package var exchange: String
    /// The routing key (for Warren's exchange, the task name).
    package var routingKey: String

    /// Creates a route.
    package init(exchange: String, routingKey: String) {
        self.exchange = exchange
        self.routingKey = routingKey
    }

    /// Orders by exchange, then routing key.
    package static func < (lhs: DeadLetterRoute, rhs: DeadLetterRoute) -> Bool {
        (lhs.exchange, lhs.routingKey) < (rhs.exchange, rhs.routingKey)
    }

    /// `exchange/routingKey`, with `(default)` for the default exchange.
    package var description: String { "\(exchange.isEmpty ? "(default)" : exchange)/\(routingKey)" }
}

/// What one pass of ``DeadLetterQueueReader`` did.
package struct DeadLetterReadReport: Sendable {
    /// Ready messages in the queue when the pass started.
    package var depth = 0
    /// Messages read and decided on (at most ``depth``, fewer with a limit).
    package var examined = 0
    /// Messages left in the queue (kept, or republishes that failed).
    package var kept = 0
    /// Messages removed.
    package var dropped = 0
    /// Messages republished (confirmed by the broker) and then removed, by route.
    package var republished: [DeadLetterRoute: Int] = [:]
    /// Republishes the broker did not confirm, one sentence each; those messages were kept.
    package var failures: [String] = []

    /// Creates an empty report.
    package init() {}

    /// How many messages were republished, all routes together.
    package var republishedCount: Int { republished.values.reduce(0, +) }
}
