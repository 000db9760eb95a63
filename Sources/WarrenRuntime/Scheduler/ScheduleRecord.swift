import AMQP
import Foundation
import WarrenCore

/// The scheduler's names on the broker, and the record that `schedule list` and `status` read.
///
/// - `<exchange>.scheduler`: the election. A durable quorum queue with
///   `x-single-active-consumer`, holding the token (usually unacknowledged, with the leader).
/// - `<exchange>.scheduler.state`: a copy of the latest token, written by the leader after each
///   confirmed write (every fire, and every refresh); a classic queue of one message
///   (`x-max-length: 1`, `drop-head`), read without taking it. It says who led last and when, and
///   the last fired ticks; nothing decides by it.
package enum ScheduleRecord {
    /// The election queue of `exchange`.
    package static func queue(exchange: String) -> String { "\(exchange).scheduler" }
    /// The record queue of `exchange`.
    package static func recordQueue(exchange: String) -> String { "\(exchange).scheduler.state" }

    /// The election queue's arguments.
    static let queueArguments: AMQPTable = ["x-queue-type": "quorum", "x-single-active-consumer": .bool(true)]

    /// Tokens and records: JSON, persistent.
    static let properties = AMQPBasicProperties(contentType: "application/json", deliveryMode: .persistent)

    /// Declares the record queue.
    static func declareRecord(on channel: AMQPChannel, name: String) throws(AMQPError) {
        try channel.declareQueue(name, durable: true, arguments: ["x-max-length": .int32(1), "x-overflow": "drop-head"])
    }

    /// What the record says: the last writer (the leader then), when, and the last fired ticks.
    package struct Snapshot: Sendable {
        /// The node that wrote the latest token.
        package var writer: String
        /// When it wrote it.
        package var writtenAt: Date
        /// The last fired tick per schedule.
        package var lastFired: [String: Date]
    }

    /// Reads the record without taking it; `nil` when there is none yet (no leader ever wrote).
    /// Also the election queue's consumer count as `queue.declare-ok` gives it, which for a
    /// single-active-consumer queue counts the active consumer only (so 0 or 1).
    package static func read(exchange: String, on io: AMQPConnectionThread) async throws -> (Snapshot?, participants: Int) {
        let (queue, record) = (queue(exchange: exchange), recordQueue(exchange: exchange))
        let (body, participants) = try await io.perform { connection throws(AMQPError) -> ([UInt8]?, Int) in
            let channel = try connection.openChannel()
            defer { try? channel.close() }
            try declareRecord(on: channel, name: record)
            var body: [UInt8]?
            if let message = try channel.get(queue: record, noAck: false) {
                body = message.body
                try channel.nack(message.deliveryTag, requeue: true)  // leave it for the next reader
            }
            let info = try channel.declareQueue(queue, durable: true, arguments: queueArguments)
            return (body, Int(info.consumerCount))
        }
        guard let body, let token = ScheduleToken(decoding: body) else { return (nil, participants) }
        let snapshot = Snapshot(
            writer: token.writer, writtenAt: ScheduleToken.date(token.writtenAt),
            lastFired: token.lastFired.mapValues(ScheduleToken.date))
        return (snapshot, participants)
    }
}
