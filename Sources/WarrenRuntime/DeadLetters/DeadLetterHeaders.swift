import AMQP
import Foundation
import WarrenCore

/// The headers Warren adds to a message it dead-letters, saying why (docs/dead-letters.md). The body
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

    /// Names the original headers a dead letter had to leave out to fit a frame, comma-separated.
    static let droppedHeaders = "x-warren-dropped-headers"
    /// The most bytes of a name (task, error type) Warren copies into a header: 255.
    static let maxNameBytes = 255
    /// The most bytes of error text in a dead letter in its minimal form: 1 KiB, so that it fits
    /// the smallest frame a broker allows (4,096 bytes) with room to spare.
    static let minimalErrorBytes = 1024

    /// `headers` plus the dead-letter headers. What Warren adds is bounded whatever the message
    /// carried: the error text to ``ErrorText/maxBytes``, names to ``maxNameBytes``; an exchange or
    /// routing key header over 255 bytes (which could never route) is replaced by the delivery's.
    static func adding(
        to headers: AMQPTable?, reason: DeadLetterReason, errorType: String?, message: String, task: String?, queue: String,
        delivery: AMQPDelivery, attempts: Int, now: Date = Date()
    ) -> AMQPTable {
        var h = headers ?? [:]
        let stamp = AMQPValue.string(CeleryTime.format(now))
        func route(_ key: String, _ fallback: String) -> AMQPValue {
            guard let text = h[key]?.stringValue, text.utf8.count <= 255 else { return .string(fallback) }
            return .string(text)
        }
        h[Self.reason] = .string(reason.rawValue)
        h[Self.errorType] = errorType.map { .string(ErrorText.bounded($0, maxBytes: maxNameBytes)) } ?? .void
        h[Self.errorMessage] = .string(ErrorText.bounded(message))
        h[Self.task] = task.map { .string(ErrorText.bounded($0, maxBytes: maxNameBytes)) } ?? .void
        h[Self.queue] = .string(queue)
        h[Self.exchange] = route(Self.exchange, delivery.exchange)
        h[Self.routingKey] = route(Self.routingKey, delivery.routingKey)
        h[Self.attempts] = .int32(Int32(clamping: attempts))
        if !Self.isTime(h[Self.firstFailure]) { h[Self.firstFailure] = stamp }
        h[Self.lastFailure] = stamp
        h["warren-wait"] = nil
        return h
    }

    /// `properties` with the original (not `x-warren-`) headers left out, largest first, until
    /// they fit a frame of `frameMax` bytes; ``droppedHeaders`` names those left out. Unchanged
    /// when they fit already; `nil` when even without every original header they would not.
    static func fitting(_ properties: AMQPBasicProperties, frameMax: Int) -> AMQPBasicProperties? {
        if properties.fits(frameMax: frameMax) { return properties }
        var result = properties
        var headers = properties.headers ?? [:]
        let candidates = headers.enumerated()
            .filter { !isWarrens($0.element.key, $0.element.value) }
            .sorted { ($0.element.value.encodedSize, $1.offset) > ($1.element.value.encodedSize, $0.offset) }
        var dropped: [String] = []
        for (_, entry) in candidates {
            headers[entry.key] = nil
            if !dropped.contains(entry.key) { dropped.append(entry.key) }
            headers[Self.droppedHeaders] = .string(ErrorText.bounded(dropped.joined(separator: ","), maxBytes: 1024))
            result.headers = headers
            if result.fits(frameMax: frameMax) { return result }
        }
        return nil
    }

    /// The headers Warren writes on a dead letter, each bounded.
    private static let written: Set<String> = [
        reason, errorType, errorMessage, task, queue, exchange, routingKey, attempts, firstFailure, lastFailure,
        droppedHeaders, "x-warren-original-expiration",
    ]

    /// Whether this entry is one Warren wrote (and bounded), so never left out; an `x-warren-`
    /// header a client sent that is not one of them, or is larger than any Warren writes, is the
    /// client's.
    private static func isWarrens(_ key: String, _ value: AMQPValue) -> Bool {
        written.contains(key) && value.encodedSize <= 4 + ErrorText.maxBytes
    }

    /// An ISO-8601 time as Warren writes it (no longer than 40 bytes), for the first-failure time
    /// a message carries: anything else (a client's) is replaced.
    private static func isTime(_ value: AMQPValue?) -> Bool {
        guard let text = value?.stringValue, text.utf8.count <= 40 else { return false }
        return CeleryTime.parse(text) != nil
    }

    /// A dead letter's properties in their minimal form, for when the full one could not be
    /// published: the original properties that identify and describe the body (content type and
    /// encoding, delivery mode, message and correlation id, when valid), and only the task's `id`
    /// and `task` and the reasons as headers, the error cut to ``minimalErrorBytes``. Small
    /// enough for any frame a broker accepts.
    static func minimal(
        _ properties: AMQPBasicProperties, id: String?, reason: DeadLetterReason, errorType: String?, message: String,
        task: String?, queue: String, delivery: AMQPDelivery, attempts: Int, now: Date = Date()
    ) -> AMQPBasicProperties {
        func short(_ text: String?) -> String? { text.flatMap { $0.utf8.count <= 255 ? $0 : nil } }
        var result = AMQPBasicProperties(
            contentType: short(properties.contentType), contentEncoding: short(properties.contentEncoding),
            deliveryMode: properties.deliveryMode, correlationID: short(properties.correlationID),
            messageID: short(properties.messageID))
        var headers: AMQPTable = [:]
        if let id { headers["id"] = .string(ErrorText.bounded(id, maxBytes: maxNameBytes)) }
        if let task { headers["task"] = .string(ErrorText.bounded(task, maxBytes: maxNameBytes)) }
        let stamp = AMQPValue.string(CeleryTime.format(now))
        headers[Self.reason] = .string(reason.rawValue)
        headers[Self.errorType] = errorType.map { .string(ErrorText.bounded($0, maxBytes: maxNameBytes)) } ?? .void
        headers[Self.errorMessage] = .string(ErrorText.bounded(message, maxBytes: minimalErrorBytes))
        headers[Self.task] = task.map { .string(ErrorText.bounded($0, maxBytes: maxNameBytes)) } ?? .void
        headers[Self.queue] = .string(queue)
        headers[Self.exchange] = .string(delivery.exchange)
        headers[Self.routingKey] = .string(delivery.routingKey)
        headers[Self.attempts] = .int32(Int32(clamping: attempts))
        headers[Self.firstFailure] = stamp
        headers[Self.lastFailure] = stamp
        headers[Self.droppedHeaders] = .string("*")
        result.headers = headers
        return result
    }

    /// Records a failure on a message that will be retried (first failure time, attempts).
    static func recordingFailure(in headers: AMQPTable?, delivery: AMQPDelivery, now: Date = Date()) -> AMQPTable {
        var h = headers ?? [:]
        let stamp = AMQPValue.string(CeleryTime.format(now))
        if !Self.isTime(h[Self.firstFailure]) { h[Self.firstFailure] = stamp }
        h[Self.lastFailure] = stamp
        if h[Self.exchange] == nil { h[Self.exchange] = .string(delivery.exchange) }
        if h[Self.routingKey] == nil { h[Self.routingKey] = .string(delivery.routingKey) }
        return h
    }
}
