import AMQP
import Foundation
import WarrenCore

/// Sends one remote-control request to Celery nodes and collects their replies, as Celery's
/// `app.control.broadcast(..., reply=True)` does (kombu/pidbox.py `Mailbox._broadcast`): the
/// request goes to the `celery.pidbox` fanout exchange, the replies come back on a queue of
/// its own bound to `reply.celery.pidbox`. What `warren queue pause|resume` speaks.
package enum ControlClient {
    /// The most replies kept (and the largest reply read): a bounded answer, whoever replies.
    static let maxReplies = 1_000
    static let maxReplyBytes = 256 << 10

    /// Sends `method` with `arguments` to `destination` (every node when `nil`) and returns the
    /// replies by node name: once `expected` nodes answered, or when `timeout` passed.
    package static func call(
        _ method: String, arguments: JSONObject = [:], destination: [String]?, expected: Int?, timeout: Duration,
        on io: AMQPConnectionThread
    ) async throws -> [String: JSONValue] {
        let replyKey = "warren.control.\(UUID().uuidString.lowercased())"
        let ticket = UUID().uuidString.lowercased()
        try await io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel(1)
            try channel.declareExchange(ControlNode.exchange, type: "fanout", durable: false)
            try channel.declareExchange(ControlRequest.replyExchange, type: "direct", durable: false)
            // As Celery's reply queues: gone with this connection, and after 10 s unused.
            _ = try channel.declareQueue(
                replyKey, durable: false, exclusive: true, autoDelete: true, arguments: ["x-expires": .int32(10_000)])
            try channel.bindQueue(replyKey, to: ControlRequest.replyExchange, routingKey: replyKey)
            _ = try channel.consume(queue: replyKey, noAck: true, exclusive: true)
        }
        var request: JSONObject = [
            "method": .string(method), "arguments": .object(arguments), "ticket": .string(ticket),
            "reply_to": ["exchange": .string(ControlRequest.replyExchange), "routing_key": .string(replyKey)],
        ]
        request["destination"] = destination.map { .array($0.map(JSONValue.string)) } ?? .null
        let expires = Date().addingTimeInterval(timeout.seconds).timeIntervalSince1970
        let properties = AMQPBasicProperties(
            contentType: "application/json", contentEncoding: "utf-8", headers: ["clock": .int64(1), "expires": .double(expires)],
            deliveryMode: .transient)
        _ = try await io.publish(
            JSONValue.object(request).serialized(), exchange: ControlNode.exchange, routingKey: "",
            properties: properties, on: 1)
        var replies: [String: JSONValue] = [:]
        let deadline = ContinuousClock.now + timeout
        let collector = Task {
            var collected: [String: JSONValue] = [:]
            for await event in io.events {
                guard case .delivery(let delivery) = event, delivery.body.count <= maxReplyBytes,
                    delivery.properties.headers?["ticket"]?.stringValue == ticket,
                    let object = (try? JSONValue(parsing: delivery.body, maxDepth: 32))?.objectValue
                else { continue }
                for (node, reply) in object where collected.count < maxReplies { collected[node] = reply }
                if let expected, collected.count >= expected { break }
            }
            return collected
        }
        let timer = Task {
            try? await Task.sleep(until: deadline)
            io.finishEvents()  // ends the collector's loop
        }
        replies = await collector.value
        timer.cancel()
        return replies
    }
}
