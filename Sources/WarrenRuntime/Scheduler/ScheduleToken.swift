import Foundation
import WarrenCore

/// The schedulers' shared state: the last fired tick of every schedule, as one message in the
/// scheduler queue (`<exchange>.scheduler`).
///
/// Whoever holds a token (delivered, not acknowledged) leads; see ``SchedulerState``. Tokens are
/// merged by taking, per schedule, the latest tick: two tokens (a bootstrap race, a token that
/// came back after its holder died while a newer one was on its way) never lose a fire and
/// never undo one. Entries of schedules a node does not know are kept: during a rolling deploy
/// another node may still run them.
///
/// ```json
/// {"v": 1, "id": "…", "writer": "warren@web-3 pid 812", "written_at": 1748772030000,
///  "last_fired": {"heartbeat": 1748772030000}}
/// ```
/// Times are integer milliseconds since 1970-01-01 UTC.
struct ScheduleToken: Sendable, Hashable {
    /// Unique per write: how a leader recognises its own token when the broker delivers it back.
    var id: String
    /// Which node wrote it.
    var writer: String
    /// When it was written, in milliseconds since 1970.
    var writtenAt: Int64
    /// The last fired tick per schedule name, in milliseconds since 1970.
    var lastFired: [String: Int64]

    /// The format version written.
    static let version = 1

    init(id: String, writer: String, writtenAt: Int64, lastFired: [String: Int64]) {
        self.id = id
        self.writer = writer
        self.writtenAt = writtenAt
        self.lastFired = lastFired
    }

    /// The first token of a queue: nothing fired yet.
    static func empty(writer: String, now: Date) -> ScheduleToken {
        ScheduleToken(id: TaskMessage.newID(), writer: writer, writtenAt: milliseconds(now), lastFired: [:])
    }

    /// Reads a token; `nil` when the bytes are not one (a message someone else put in the queue).
    init?(decoding body: [UInt8]) {
        guard let json = try? JSONValue(parsing: body), case .object(let object) = json,
            let id = object["id"]?.stringValue, case .object(let fired)? = object["last_fired"]
        else { return nil }
        var lastFired: [String: Int64] = [:]
        for (name, value) in fired {
            guard let tick = value.int64Value else { return nil }
            lastFired[name] = tick
        }
        self.init(
            id: id, writer: object["writer"]?.stringValue ?? "", writtenAt: object["written_at"]?.int64Value ?? 0, lastFired: lastFired)
    }

    /// The token as JSON, schedules in name order.
    func encoded() -> [UInt8] {
        let fired = JSONObject(lastFired.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int($0.value)) })
        let json: JSONValue = [
            "v": .int(Int64(Self.version)), "id": .string(id), "writer": .string(writer), "written_at": .int(writtenAt),
            "last_fired": .object(fired),
        ]
        return json.serialized()
    }

    /// Merges last fired ticks: the latest of each schedule.
    static func merge(_ a: [String: Int64], _ b: [String: Int64]) -> [String: Int64] {
        a.merging(b, uniquingKeysWith: max)
    }

    /// `date` in whole milliseconds since 1970.
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The date of `milliseconds` since 1970.
    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
