import AMQP
import Foundation

/// The headers Warren adds to a message it dead-letters, saying why (DESIGN section 6). The body
/// and the other properties stay as they were, so a replay sends the task unchanged.
enum DeadLetterHeaders {
    static let reason = "x-warren-reason"
    static let errorType = "x-warren-error-type"
    static let errorMessage = "x-warren-error"
    static let task = "x-warren-task"
    static let queue = "x-warren-queue"
    static let exchange = "x-warren-exchange"
    static let routingKey = "x-warren-routing-key"
    static let attempts = "x-warren-attempts"
    static let firstFailure = "x-warren-first-failure"
    static let lastFailure = "x-warren-last-failure"

    /// `headers` plus the dead-letter headers.
    static func adding(
        to headers: AMQPTable?, reason: DeadLetterReason, errorType: String?, message: String, task: String?, queue: String,
        delivery: AMQPDelivery, attempts: Int, now: Date = Date()
    ) -> AMQPTable {
        var h = headers ?? [:]
        let stamp = AMQPValue.string(CeleryTime.format(now))
        h[Self.reason] = .string(reason.rawValue)
        h[Self.errorType] = errorType.map(AMQPValue.string) ?? .void
        h[Self.errorMessage] = .string(message)
        h[Self.task] = task.map(AMQPValue.string) ?? .void
        h[Self.queue] = .string(queue)
        h[Self.exchange] = .string(h[Self.exchange]?.stringValue ?? delivery.exchange)
        h[Self.routingKey] = .string(h[Self.routingKey]?.stringValue ?? delivery.routingKey)
        h[Self.attempts] = .int32(Int32(clamping: attempts))
        if h[Self.firstFailure] == nil || h[Self.firstFailure] == .void { h[Self.firstFailure] = stamp }
        h[Self.lastFailure] = stamp
        h["warren-wait"] = nil
        return h
    }

    /// Records a failure on a message that will be retried (first failure time, attempts).
    static func recordingFailure(in headers: AMQPTable?, delivery: AMQPDelivery, now: Date = Date()) -> AMQPTable {
        var h = headers ?? [:]
        let stamp = AMQPValue.string(CeleryTime.format(now))
        if h[Self.firstFailure] == nil { h[Self.firstFailure] = stamp }
        h[Self.lastFailure] = stamp
        if h[Self.exchange] == nil { h[Self.exchange] = .string(delivery.exchange) }
        if h[Self.routingKey] == nil { h[Self.routingKey] = .string(delivery.routingKey) }
        return h
    }
}
