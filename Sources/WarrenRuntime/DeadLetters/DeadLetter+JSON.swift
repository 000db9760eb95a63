import AMQP
import Foundation
import WarrenCore

extension DeadLetter {
    /// The dead letter as one JSON object, for `dlq list --json` (one per line):
    ///
    /// - the fields of ``DeadLetter``: `reason`, `broker_reason`, `task`, `task_id`, `attempts`,
    ///   `queue` (the original queue), `exchange`, `routing_key`, `error_type`, `error`,
    ///   `first_failure`, `last_failure`, `dead_lettered_at` (ISO-8601, UTC) and `age_seconds`;
    ///   unknown ones are `null`;
    /// - `delivery`: the `exchange`, `routing_key` and `redelivered` flag of this delivery;
    /// - `properties`: the properties that are set (`content_type`, `correlation_id`, ...);
    /// - `headers`: every header, decoded (see the AMQP-to-JSON rules of `AMQPValue`);
    /// - `body`: the body as text when it is UTF-8, else base64, as `body_encoding` (`utf-8` or
    ///   `base64`) says.
    /// - Parameter now: The time `age_seconds` is measured at.
    package func jsonObject(now: Date = Date()) -> JSONObject {
        func text(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        func time(_ d: Date?) -> JSONValue { d.map { .string(CeleryTime.format($0)) } ?? .null }
        var object = JSONObject()
        object["reason"] = .string(reason)
        object["broker_reason"] = text(brokerReason)
        object["task"] = text(task)
        object["task_id"] = text(taskID)
        object["attempts"] = attempts.map { .int(Int64($0)) } ?? .null
        object["queue"] = text(originalQueue)
        object["exchange"] = text(originalExchange)
        object["routing_key"] = text(originalRoutingKey)
        object["error_type"] = text(errorType)
        object["error"] = text(error)
        object["first_failure"] = time(firstFailure)
        object["last_failure"] = time(lastFailure)
        object["dead_lettered_at"] = time(deadLetteredAt)
        object["age_seconds"] = age(now: now).map { .double(($0.seconds * 1000).rounded() / 1000) } ?? .null
        object["delivery"] = .object([
            "exchange": .string(delivery.exchange), "routing_key": .string(delivery.routingKey),
            "redelivered": .bool(delivery.redelivered),
        ])
        object["properties"] = .object(Self.json(delivery.properties))
        object["headers"] = .object(delivery.properties.headers?.jsonObject ?? [:])
        if let utf8 = String(validating: delivery.body, as: UTF8.self) {
            object["body"] = .string(utf8)
            object["body_encoding"] = "utf-8"
        } else {
            object["body"] = .string(Data(delivery.body).base64EncodedString())
            object["body_encoding"] = "base64"
        }
        return object
    }

    /// The properties that are set, headers aside.
    private static func json(_ p: AMQPBasicProperties) -> JSONObject {
        var o = JSONObject()
        o["content_type"] = p.contentType.map(JSONValue.string)
        o["content_encoding"] = p.contentEncoding.map(JSONValue.string)
        o["delivery_mode"] = p.deliveryMode.map { .int(Int64($0.rawValue)) }
        o["priority"] = p.priority.map { .int(Int64($0)) }
        o["correlation_id"] = p.correlationID.map(JSONValue.string)
        o["reply_to"] = p.replyTo.map(JSONValue.string)
        o["expiration"] = p.expiration.map(JSONValue.string)
        o["message_id"] = p.messageID.map(JSONValue.string)
        o["timestamp"] = p.timestamp.map { .string(CeleryTime.format(Date(timeIntervalSince1970: Double($0)))) }
        o["type"] = p.type.map(JSONValue.string)
        o["user_id"] = p.userID.map(JSONValue.string)
        o["app_id"] = p.appID.map(JSONValue.string)
        return o
    }
}
