import AMQP
import Foundation

/// One entry of the `x-death` header that RabbitMQ adds when **it** dead-letters a message (a
/// per-message or per-queue TTL ran out, a consumer rejected it without requeue, the queue was
/// full, a quorum queue's delivery limit was reached).
///
/// RabbitMQ keeps one entry per queue and reason, most recent first, and counts repeats in
/// ``count``. Warren's own wait queues add `expired` entries too (a retry waited there), so a
/// dead letter can carry entries that have nothing to do with why it is dead.
package struct DeathRecord: Sendable, Hashable {
    /// The broker's reason: `expired`, `rejected`, `maxlen` or `delivery_limit`.
    package var reason: String
    /// The queue the message was dead-lettered from.
    package var queue: String?
    /// The exchange the message had been published to before that queue.
    package var exchange: String?
    /// The routing keys it had been published with (`CC` and `BCC` included).
    package var routingKeys: [String]
    /// When it happened (whole seconds).
    package var time: Date?
    /// How many times it happened, for this queue and reason.
    package var count: Int

    /// Creates a record.
    package init(
        reason: String, queue: String? = nil, exchange: String? = nil, routingKeys: [String] = [], time: Date? = nil,
        count: Int = 1
    ) {
        self.reason = reason
        self.queue = queue
        self.exchange = exchange
        self.routingKeys = routingKeys
        self.time = time
        self.count = count
    }

    /// The entries of an `x-death` header, most recent first; entries without a reason are
    /// skipped, and a header of another shape reads as none.
    package static func records(in headers: AMQPTable?) -> [DeathRecord] {
        guard let entries = headers?["x-death"]?.arrayValue else { return [] }
        return entries.compactMap { value in
            guard let table = value.tableValue, let reason = table["reason"]?.stringValue else { return nil }
            let time: Date? =
                switch table["time"] {
                case .timestamp(let seconds)?: Date(timeIntervalSince1970: Double(seconds))
                case let other?: other.intValue.map { Date(timeIntervalSince1970: Double($0)) }
                case nil: nil
                }
            return DeathRecord(
                reason: reason, queue: table["queue"]?.stringValue, exchange: table["exchange"]?.stringValue,
                routingKeys: table["routing-keys"]?.arrayValue?.compactMap(\.stringValue) ?? [], time: time,
                count: table["count"]?.intValue ?? 1)
        }
    }
}
