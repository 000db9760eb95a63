import AMQP
import Foundation
import WarrenCore

extension DeadLetter {
    /// Reads a dead letter from a delivery of the dead-letter or unrouted queue.
    ///
    /// Each field prefers Warren's `x-warren-*` header, then the newest `x-death` entry, then
    /// the delivery itself; the reason follows the same order (see ``DeadLetter``). Headers of
    /// an unexpected kind read as absent: a dead letter is shown whatever state it is in.
    package init(delivery: AMQPDelivery) {
        let headers = delivery.properties.headers ?? [:]
        func text(_ key: String) -> String? {
            guard let value = headers[key], !value.isVoid else { return nil }
            return value.stringValue
        }
        func time(_ key: String) -> Date? {
            switch headers[key] {
            case .timestamp(let seconds)?: Date(timeIntervalSince1970: Double(seconds))
            case let value?: value.stringValue.flatMap(CeleryTime.parse)
            case nil: nil
            }
        }

        let deaths = DeathRecord.records(in: headers)
        let newestDeath = deaths.first
        let warrenReason = text(DeadLetterHeaders.reason)
        let reason: String
        var deadLetteredAt: Date?
        if let warrenReason {
            reason = warrenReason
            deadLetteredAt = time(DeadLetterHeaders.lastFailure)
        } else if let death = newestDeath {
            reason = Self.reason(forBrokerReason: death.reason)
            deadLetteredAt = death.time
        } else if !delivery.exchange.isEmpty {
            reason = Self.unroutedReason
            deadLetteredAt = delivery.properties.timestamp.map { Date(timeIntervalSince1970: Double($0)) }
        } else {
            reason = Self.unknownReason
            deadLetteredAt = delivery.properties.timestamp.map { Date(timeIntervalSince1970: Double($0)) }
        }

        // Where it came from. A message RabbitMQ dead-lettered went through the queue in x-death;
        // one with neither kind of header is where it was published to (the unrouted queue).
        let deathOrigin = warrenReason == nil ? newestDeath : nil
        let asPublished = warrenReason == nil && newestDeath == nil
        let exchange =
            text(DeadLetterHeaders.exchange) ?? deathOrigin?.exchange ?? (asPublished ? delivery.exchange : nil)
        let routingKey =
            text(DeadLetterHeaders.routingKey) ?? deathOrigin?.routingKeys.first ?? (asPublished ? delivery.routingKey : nil)
        var task = text(DeadLetterHeaders.task) ?? text("task")
        if task == nil, let exchange, !exchange.isEmpty, let routingKey, !routingKey.isEmpty { task = routingKey }

        let attempts = headers[DeadLetterHeaders.attempts]?.intValue ?? headers["retries"]?.intValue
        let firstFailure = time(DeadLetterHeaders.firstFailure) ?? deaths.last?.time
        let lastFailure = time(DeadLetterHeaders.lastFailure) ?? newestDeath?.time

        self.init(
            delivery: delivery, reason: reason, brokerReason: warrenReason == nil ? newestDeath?.reason : nil, task: task,
            taskID: text("id") ?? delivery.properties.correlationID ?? delivery.properties.messageID, attempts: attempts,
            originalQueue: text(DeadLetterHeaders.queue) ?? deathOrigin?.queue, originalExchange: exchange,
            originalRoutingKey: routingKey, errorType: text(DeadLetterHeaders.errorType),
            error: text(DeadLetterHeaders.errorMessage), firstFailure: firstFailure, lastFailure: lastFailure,
            deadLetteredAt: deadLetteredAt, deaths: deaths)
    }
}
