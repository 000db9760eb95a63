import AMQP
import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// Messages as a real Celery 5 client publishes them, with the header kinds py-amqp writes
/// (`str` -> S, `int` -> I, `bool` -> t, `None` -> V, `list` -> A, `dict` -> F), as librabbitmq
/// hands them to Warren.
enum CeleryFixture {
    static let taskID = "4d4f1c5e-8a6b-4a59-9a43-0f1d2c3b4a59"
    static let replyTo = "8b5e6d9f-2c4a-3e1b-9f0d-7a6c5b4e3d2f"

    static func headers(task: String = "demo.add", retries: Int32 = 0) -> AMQPTable {
        [
            "lang": "py",
            "task": .string(task),
            "id": .string(taskID),
            "shadow": .void,
            "eta": .void,
            "expires": .void,
            "group": .void,
            "group_index": .void,
            "retries": .int32(retries),
            "timelimit": .array([.void, .void]),
            "root_id": .string(taskID),
            "parent_id": .void,
            "argsrepr": "(2, 3)",
            "kwargsrepr": "{}",
            "origin": "gen4242@laptop",
            "ignore_result": .bool(false),
            "replaced_task_nesting": .int32(0),
            "stamped_headers": .void,
            "stamps": .table([:]),
        ]
    }

    static func properties(headers: AMQPTable = headers()) -> AMQPBasicProperties {
        AMQPBasicProperties(
            contentType: "application/json", contentEncoding: "utf-8", headers: headers,
            deliveryMode: .persistent, priority: 0, correlationID: taskID, replyTo: replyTo)
    }

    /// Python's `json.dumps` output (", " and ": " separators).
    static let body = #"[[2, 3], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]"#

    static func delivery(
        properties: AMQPBasicProperties = properties(), body: String = body, routingKey: String = "celery"
    ) -> AMQPDelivery {
        delivery(properties: properties, bytes: Array(body.utf8), routingKey: routingKey)
    }

    static func delivery(properties: AMQPBasicProperties, bytes: [UInt8], routingKey: String = "celery") -> AMQPDelivery {
        AMQPDelivery(
            channel: 1, consumerTag: "ctag", deliveryTag: 7, redelivered: false, exchange: "",
            routingKey: routingKey, properties: properties, body: bytes)
    }

    /// A delivery from a plain AMQP client: no headers, no content type unless given.
    static func plain(_ body: String, routingKey: String = "demo.echo", properties: AMQPBasicProperties = .init())
        -> AMQPDelivery
    {
        delivery(properties: properties, body: body, routingKey: routingKey)
    }
}

extension AMQPTable {
    func with(_ key: String, _ value: AMQPValue?) -> AMQPTable {
        var copy = self
        copy[key] = value
        return copy
    }
}

/// Runs `body`, expecting an ``EnvelopeError``; returns it (or records an issue).
func envelopeError(_ body: () throws(EnvelopeError) -> Any) -> EnvelopeError? {
    do {
        let value = try body()
        Issue.record("expected an EnvelopeError, got \(value)")
        return nil
    } catch {
        return error
    }
}
