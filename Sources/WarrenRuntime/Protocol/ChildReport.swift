import WarrenCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a child process tells its supervisor: one line each on file descriptor 3.
///
/// Every report is plain text, cheap to write and read: `S <hard deadline or -> <id>\t<name>` (started),
/// `F <outcome> <duration> <lag or -> <id>\t<name>` (finished), `D <reason>` (dead-lettered),
/// `Q <id>` (a query), and the lifecycle ones `R` (ready), `L` (connection lost) and
/// `C <reason>` (recycling). No JSON: its coders would be the only users of Codable in an idle
/// child, and their metadata costs every child memory.
enum ChildReport: Sendable, Equatable {
    /// The child's consumer is registered: it takes tasks. Sent again after each reconnection.
    case ready
    /// The child lost its broker connection (or its consumer) and takes no task until it sends
    /// ``ready`` again; it reconnects by itself.
    case disconnected
    /// A handler started. `hardDeadline` (seconds since 1970) is when the supervisor kills the
    /// child if the task is still running; `name` is the task's (for `active`).
    case started(id: String, hardDeadline: Double?, name: String)
    /// A task whose handler ran ended, and was settled with the broker.
    case finished(TaskSummary)
    /// A message was dead-lettered, for this reason.
    case deadLettered(reason: String)
    /// The child is stopping to be replaced: `max-tasks` or `max-memory`.
    case recycling(reason: String)
    /// A task came redelivered: how often did it kill children? Answered by a ``SupervisorNotice``.
    case deathsQuery(id: String)

    /// The line written to the pipe (newline included).
    var line: String {
        let text: String
        switch self {
        case .started(let id, let deadline, let name):
            text = "S \(deadline.map { String($0) } ?? "-") \(Self.field(id))\t\(Self.field(name))"
        case .finished(let t):
            text = "F \(t.outcome.rawValue) \(t.duration) \(t.lag.map { String($0) } ?? "-") \(Self.field(t.id))\t\(Self.field(t.name))"
        case .deadLettered(let reason):
            text = "D \(Self.field(reason))"
        case .deathsQuery(let id):
            text = "Q \(Self.field(id))"
        case .ready:
            text = "R"
        case .disconnected:
            text = "L"
        case .recycling(let reason):
            text = "C \(Self.field(reason))"
        }
        return text + "\n"
    }

    init?(line: Substring) {
        switch line {
        case "R":
            self = .ready
            return
        case "L":
            self = .disconnected
            return
        default: break
        }
        let tag = line.prefix(2)
        let rest = line.dropFirst(2)
        switch tag {
        case "S ":
            let parts = rest.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            let fields = parts[1].split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            self = .started(id: String(fields[0]), hardDeadline: Double(parts[0]), name: fields.count == 2 ? String(fields[1]) : "")
        case "F ":
            let parts = rest.split(separator: " ", maxSplits: 3)
            guard parts.count == 4, let outcome = TaskOutcome(rawValue: String(parts[0])), let duration = Double(parts[1]),
                let tab = parts[3].firstIndex(of: "\t")
            else { return nil }
            let ids = parts[3]
            self = .finished(
                TaskSummary(
                    id: String(ids[..<tab]), name: String(ids[ids.index(after: tab)...]), outcome: outcome, duration: duration,
                    lag: Double(parts[2])))
        case "D ":
            self = .deadLettered(reason: String(rest))
        case "Q ":
            self = .deathsQuery(id: String(rest))
        case "C ":
            self = .recycling(reason: String(rest))
        default:
            return nil
        }
    }

    /// A dead letter: counted where it is read, not sent on to the supervisor's actor.
    var isPerTask: Bool {
        if case .deadLettered = self { return true }
        return false
    }

    /// Only metrics depend on it: it may wait a little to share a pipe write with the next
    /// report. Not so a task that will come again (retried, requeued: same id), which the
    /// supervisor must know finished before a crash of this child could be blamed on it.
    var canWait: Bool {
        switch self {
        case .finished(let summary): summary.outcome == .succeeded || summary.outcome == .failed || summary.outcome == .revoked
        case .deadLettered: true
        default: false
        }
    }

    /// `text` made safe for one field of a line: no line breaks or tabs (a task id is the
    /// sender's text; both ends of the pipe see the same cleaned id).
    static func field(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else { return text }
        return String(text.map { $0 == "\n" || $0 == "\r" || $0 == "\t" ? "?" : $0 })
    }

}

/// What the supervisor tells its children: one line on their standard input, the answer to a
/// ``ChildReport/deathsQuery(id:)``: `N <count> <reason> <id>`, or `N - - <id>` for a task that
/// killed no child.
struct SupervisorNotice: Sendable, Equatable {
    /// The task asked about.
    var id: String
    /// How often it was running in a child that died, and how (nil: never). A redelivered task
    /// that killed children `poisonThreshold` times is dead-lettered instead of run again.
    var deaths: TaskDeaths?

    init(id: String, deaths: TaskDeaths?) {
        self.id = id
        self.deaths = deaths
    }

    var line: Data {
        // A reason is one word of Warren's own; the id is the one the child asked about (already
        // a clean field, see ``ChildReport/field(_:)``).
        let reason = deaths.map { $0.reason.rawValue } ?? "-"
        return Data("N \(deaths.map { String($0.count) } ?? "-") \(reason) \(ChildReport.field(id))\n".utf8)
    }

    init?(line: Substring) {
        guard line.hasPrefix("N ") else { return nil }
        let parts = line.dropFirst(2).split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        id = String(parts[2])
        if parts[0] == "-" {
            deaths = nil
        } else {
            guard let count = Int(parts[0]), let reason = DeadLetterReason(rawValue: String(parts[1])) else { return nil }
            deaths = TaskDeaths(count: count, reason: reason)
        }
    }
}

/// A task id the supervisor tells its children about, one line on their standard input:
/// `X <id>`, revoked on the node (every child, and each child that starts, is told: a revoked
/// task that arrives is discarded), or `K <id>`, cancel the running handler of that task
/// (`revoke(terminate=True)`; the supervisor kills the child if it still runs after
/// ``hardTimeLimitGrace``).
struct TaskNotice: Sendable, Equatable {
    enum Kind: Character, Sendable {
        case revoked = "X"
        case terminate = "K"
    }

    var kind: Kind
    var id: String

    var line: String { "\(kind.rawValue) \(ChildReport.field(id))\n" }

    init(_ kind: Kind, id: String) {
        self.kind = kind
        self.id = id
    }

    init?(line: Substring) {
        guard line.count > 2, let first = line.first, let kind = Kind(rawValue: first),
            line[line.index(after: line.startIndex)] == " "
        else { return nil }
        self.kind = kind
        id = String(line.dropFirst(2))
    }
}

/// What the supervisor tells its children when task events are switched (`enable_events`,
/// `disable_events`, `events` in the config): `E 1` or `E 0` on their standard input, also to
/// each child that starts while they are on.
struct TaskEventsNotice: Sendable, Equatable {
    var on: Bool

    var line: String { on ? "E 1\n" : "E 0\n" }

    init(on: Bool) { self.on = on }

    init?(line: Substring) {
        switch line {
        case "E 1": on = true
        case "E 0": on = false
        default: return nil
        }
    }
}

/// How often a task was running in a child that died, and how it died.
struct TaskDeaths: Sendable, Equatable {
    var count: Int
    /// ``DeadLetterReason/poison`` (the child crashed) or ``DeadLetterReason/timeLimit`` (the
    /// supervisor killed it at the hard limit).
    var reason: DeadLetterReason
}

/// Deliveries of one task that may kill a child before Warren stops redelivering it.
let poisonThreshold = 3

/// Redeliveries a quorum queue counts (`x-delivery-count`) before a task is dead-lettered as
/// poison. The broker's count outlives a supervisor and spans every host, where Warren's own
/// count (``poisonThreshold``) is one supervisor's; but it also counts harmless redeliveries
/// (a shutdown giving tasks back, a lost connection), hence a higher bound.
let quorumRedeliveryLimit = 10

/// Time a handler gets past its soft time limit (cancellation) before its child is killed.
let hardTimeLimitGrace = Duration.seconds(5)

/// What the supervisor tells its children after `time_limit(task_name, soft, hard)`: the
/// limits that replace the queue's `time_limit` for that task name, in seconds (`-` for none;
/// both `-`: back to the queue's). `T <soft> <hard> <name>` on their standard input (the name
/// last: it may hold spaces), and every
/// one in force to each child that starts.
struct TimeLimitNotice: Sendable, Equatable {
    var task: String
    var soft: Double?
    var hard: Double?

    var line: String { "T \(Self.text(soft)) \(Self.text(hard)) \(ChildReport.field(task))\n" }

    init(task: String, soft: Double?, hard: Double?) {
        self.task = task
        self.soft = soft
        self.hard = hard
    }

    init?(line: Substring) {
        let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "T", !parts[3].isEmpty, let soft = Self.value(parts[1]), let hard = Self.value(parts[2])
        else { return nil }
        task = String(parts[3])
        self.soft = soft
        self.hard = hard
    }

    /// The override as the child applies it: `nil` when both limits are cleared.
    var limit: TaskTimeLimit? {
        guard soft != nil || hard != nil else { return nil }
        return TaskTimeLimit(
            hard: hard.map { .milliseconds(Int64(($0 * 1000).rounded())) }, soft: soft.map { .milliseconds(Int64(($0 * 1000).rounded())) })
    }

    private static func text(_ seconds: Double?) -> String { seconds.map { "\($0)" } ?? "-" }

    /// `-`: none (`.some(nil)`); a finite positive number; anything else: unreadable (`nil`).
    private static func value(_ field: Substring) -> Double?? {
        if field == "-" { return .some(nil) }
        guard let seconds = Double(field), seconds.isFinite, seconds > 0 else { return nil }
        return .some(seconds)
    }
}
