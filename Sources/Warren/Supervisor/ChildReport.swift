import Foundation

/// What a child process tells its supervisor: one line each on file descriptor 3.
///
/// Reports that come with every task are plain text, cheap to write and read:
/// `S <hard deadline or -> <id>` (started), `F <outcome> <duration> <lag or -> <id>\t<name>`
/// (finished), `D <reason>` (dead-lettered) and `Q <id>` (a query). The rare lifecycle ones are
/// JSON objects.
enum ChildReport: Sendable, Equatable {
    /// The child's consumer is registered: it takes tasks. Sent again after each reconnection.
    case ready
    /// The child lost its broker connection (or its consumer) and takes no task until it sends
    /// ``ready`` again; it reconnects by itself.
    case disconnected
    /// A handler started. `hardDeadline` (seconds since 1970) is when the supervisor kills the
    /// child if the task is still running.
    case started(id: String, hardDeadline: Double?)
    /// A task whose handler ran ended, and was settled with the broker.
    case finished(TaskSummary)
    /// A message was dead-lettered, for this reason.
    case deadLettered(reason: String)
    /// The child is stopping to be replaced: `max-tasks` or `max-memory`.
    case recycling(reason: String)
    /// A task came redelivered: how often did it kill children? Answered by a ``SupervisorNotice``.
    case deathsQuery(id: String)

    /// The JSON form of the lifecycle reports.
    private enum Lifecycle: Codable {
        case ready
        case disconnected
        case recycling(reason: String)
    }

    /// The line written to the pipe (newline included).
    var line: String {
        let text: String
        switch self {
        case .started(let id, let deadline):
            text = "S \(deadline.map { String($0) } ?? "-") \(Self.field(id))"
        case .finished(let t):
            text = "F \(t.outcome.rawValue) \(t.duration) \(t.lag.map { String($0) } ?? "-") \(Self.field(t.id))\t\(Self.field(t.name))"
        case .deadLettered(let reason):
            text = "D \(Self.field(reason))"
        case .deathsQuery(let id):
            text = "Q \(Self.field(id))"
        case .ready:
            text = Self.json(.ready)
        case .disconnected:
            text = Self.json(.disconnected)
        case .recycling(let reason):
            text = Self.json(.recycling(reason: reason))
        }
        return text + "\n"
    }

    init?(line: Substring) {
        let tag = line.prefix(2)
        let rest = line.dropFirst(2)
        switch tag {
        case "S ":
            let parts = rest.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            self = .started(id: String(parts[1]), hardDeadline: Double(parts[0]))
        case "F ":
            let parts = rest.split(separator: " ", maxSplits: 3)
            guard parts.count == 4, let outcome = TaskOutcome(rawValue: String(parts[0])), let duration = Double(parts[1]),
                let tab = parts[3].firstIndex(of: "\t")
            else { return nil }
            let ids = parts[3]
            self = .finished(TaskSummary(
                id: String(ids[..<tab]), name: String(ids[ids.index(after: tab)...]), outcome: outcome, duration: duration,
                lag: Double(parts[2])))
        case "D ":
            self = .deadLettered(reason: String(rest))
        case "Q ":
            self = .deathsQuery(id: String(rest))
        default:
            switch try? JSONDecoder().decode(Lifecycle.self, from: Data(line.utf8)) {
            case .ready?: self = .ready
            case .disconnected?: self = .disconnected
            case .recycling(let reason)?: self = .recycling(reason: reason)
            case nil: return nil
            }
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
        case .finished(let summary): summary.outcome == .succeeded || summary.outcome == .failed
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

    private static func json(_ value: Lifecycle) -> String {
        String(decoding: (try? JSONEncoder().encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// What the supervisor tells its children: one JSON object per line on their standard input,
/// the answer to a ``ChildReport/deathsQuery(id:)``.
struct SupervisorNotice: Codable, Sendable, Equatable {
    /// The task asked about.
    var id: String
    /// How often it was running in a child that died, and how (nil: never). A redelivered task
    /// that killed children `poisonThreshold` times is dead-lettered instead of run again.
    var deaths: TaskDeaths?

    var line: Data {
        var data = (try? JSONEncoder().encode(self)) ?? Data()
        data.append(0x0A)
        return data
    }
}

/// How often a task was running in a child that died, and how it died.
struct TaskDeaths: Codable, Sendable, Equatable {
    var count: Int
    /// `poison` (the child crashed) or `time-limit` (the supervisor killed it at the hard limit).
    var reason: String
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
