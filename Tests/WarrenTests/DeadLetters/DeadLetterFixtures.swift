import AMQP
import Foundation
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// Dead letters as they sit in the queues: made by a Warren worker, by RabbitMQ, or by the
/// alternate exchange.
enum DeadLetterFixture {
    static let failedAt = "2025-03-01T10:00:05.250000+00:00"
    static let firstFailedAt = "2025-03-01T10:00:00+00:00"
    static let failedDate = CeleryTime.parse(failedAt)!

    static func delivery(
        headers: AMQPTable?, exchange: String = "", routingKey: String = "warren.dead", body: [UInt8] = Array("[[2, 3], {}, {}]".utf8),
        timestamp: UInt64? = nil, correlationID: String? = nil
    ) -> AMQPDelivery {
        AMQPDelivery(
            channel: 1, consumerTag: "", deliveryTag: 1, redelivered: false, exchange: exchange, routingKey: routingKey,
            properties: AMQPBasicProperties(
                contentType: "application/json", headers: headers, correlationID: correlationID, timestamp: timestamp),
            body: body)
    }

    /// What ChildWorker.deadLetter publishes for a task that failed after 3 attempts, which had
    /// waited in a wait queue between attempts (hence its x-death entries).
    static var warrenHeaders: AMQPTable {
        var h = CeleryFixture.headers(task: "demo.flaky", retries: 2)
        h["eta"] = "2025-03-01T10:00:04+00:00"
        h["warren-wait"] = "1000"
        h["x-death"] = .array([
            .table([
                "count": .int64(2), "reason": "expired", "queue": "warren.wait.1000ms", "time": .timestamp(1_740_823_204),
                "exchange": "warren.wait", "routing-keys": .array(["default"]),
            ])
        ])
        h["x-first-death-reason"] = "expired"
        h["x-warren-reason"] = "max-retries"
        h["x-warren-error-type"] = "RuntimeError"
        h["x-warren-error"] = "demo.flaky failed on attempt 3, as asked"
        h["x-warren-task"] = "demo.flaky"
        h["x-warren-queue"] = "default"
        h["x-warren-exchange"] = "warren"
        h["x-warren-routing-key"] = "demo.flaky"
        h["x-warren-attempts"] = .int32(3)
        h["x-warren-first-failure"] = .string(firstFailedAt)
        h["x-warren-last-failure"] = .string(failedAt)
        return h
    }

    /// A Celery task that expired in a work queue and that RabbitMQ dead-lettered (policy).
    static var brokerExpiredHeaders: AMQPTable {
        var h = CeleryFixture.headers(task: "demo.add", retries: 1)
        h["x-death"] = .array([
            .table([
                "count": .int64(1), "reason": "expired", "queue": "latency", "time": .timestamp(1_740_823_300),
                "exchange": "warren", "routing-keys": .array(["demo.add"]), "original-expiration": "1000",
            ]),
            .table([
                "count": .int64(1), "reason": "expired", "queue": "warren.wait.1000ms", "time": .timestamp(1_740_823_200),
                "exchange": "warren.wait", "routing-keys": .array(["latency"]),
            ]),
        ])
        return h
    }
}
