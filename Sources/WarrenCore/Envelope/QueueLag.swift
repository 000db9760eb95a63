import AMQP
import Foundation

/// Queue lag: how long a message waited between its publish (or, for a task with an `eta`,
/// the moment it fell due) and its handler's start.
package enum QueueLag {
    /// The header RabbitMQ's `rabbitmq_message_timestamp` plugin sets (milliseconds since 1970);
    /// Warren's publisher sets it too. The AMQP `timestamp` property counts whole seconds only.
    static let header = "timestamp_in_ms"

    /// The lag in seconds (never negative), or nil when the message carries no publish time.
    package static func seconds(of delivery: AMQPDelivery, dueAt eta: Date?, now: Date) -> Double? {
        guard let published = publishTime(of: delivery.properties) else { return nil }
        let since = max(published, eta ?? published)
        return max(0, now.timeIntervalSince(since))
    }

    /// The publish time from the `timestamp_in_ms` header, else the `timestamp` property.
    static func publishTime(of properties: AMQPBasicProperties) -> Date? {
        if let value = properties.headers?[header], let ms = value.intValue {
            return Date(timeIntervalSince1970: Double(ms) / 1000)
        }
        return properties.timestamp.map { Date(timeIntervalSince1970: Double($0)) }
    }
}
