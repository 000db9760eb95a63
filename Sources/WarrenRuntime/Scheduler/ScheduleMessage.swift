import AMQP
import Foundation
import WarrenCore

/// The task message of one fire of a schedule: an ordinary Celery v2 message (any worker, Warren
/// or Celery, runs it), with two more headers, `warren-schedule` (the schedule's name) and
/// `warren-schedule-tick` (the tick, ISO-8601 in UTC).
///
/// A tick's task id is derived from the schedule's name and the tick (``taskID(schedule:tick:)``),
/// so should a tick ever be fired twice the two messages carry the same id; `schedule run` uses
/// a fresh id instead.
package struct ScheduleMessage: Sendable {
    /// The header naming the schedule.
    package static let scheduleHeader = "warren-schedule"
    /// The header holding the tick.
    package static let tickHeader = "warren-schedule-tick"

    /// Where to publish: `""` for the default exchange.
    package var exchange: String
    /// The routing key: the task name, the schedule's `routing_key`, or its `queue`.
    package var routingKey: String
    /// The task.
    package var task: TaskMessage

    /// The message for `schedule` firing `tick`.
    ///
    /// - Parameters:
    ///   - schedule: The schedule.
    ///   - exchange: The configuration's task exchange.
    ///   - tick: The tick fired (now, for `schedule run`).
    ///   - expiresAt: When the fire expires; `nil` for never.
    ///   - id: The task id; by default derived from the schedule and the tick.
    package init(schedule: ScheduleConfig, exchange: String, tick: Date, expiresAt: Date?, id: String? = nil) {
        let destination = schedule.destination(exchange: exchange)
        self.exchange = destination.exchange
        self.routingKey = destination.routingKey
        var task = TaskMessage(
            name: schedule.task, id: id ?? Self.taskID(schedule: schedule.name, tick: tick), args: schedule.args,
            kwargs: schedule.kwargs, expires: expiresAt)
        task.headers[Self.scheduleHeader] = .string(schedule.name)
        task.headers[Self.tickHeader] = .string(CeleryTime.format(tick))
        self.task = task
    }

    /// The task id of `schedule`'s fire of `tick`: a version 8 UUID (RFC 9562) whose bits are
    /// the 128-bit FNV-1a hash of the name and the tick in milliseconds. The same on every node.
    package static func taskID(schedule: String, tick: Date) -> String {
        var hash: UInt128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d  // FNV-1a 128 offset basis
        let prime: UInt128 = 0x0000_0000_0100_0000_0000_0000_0000_013b
        for byte in Array("warren-schedule\u{0}\(schedule)\u{0}\(ScheduleToken.milliseconds(tick))".utf8) {
            hash ^= UInt128(byte)
            hash = hash &* prime
        }
        var bytes = (0..<16).map { UInt8(truncatingIfNeeded: hash >> (8 * (15 - $0))) }
        bytes[6] = (bytes[6] & 0x0f) | 0x80  // version 8
        bytes[8] = (bytes[8] & 0x3f) | 0x80  // RFC 9562 variant
        let hex = bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        let parts = [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20),
        ]
        return parts.joined(separator: "-")
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
