import Foundation

/// What a child process tells its supervisor: one JSON object per line on file descriptor 3.
enum ChildReport: Codable, Sendable, Equatable {
    /// The child's consumer is registered: it takes tasks. Sent again after each reconnection.
    case ready
    /// The child lost its broker connection (or its consumer) and takes no task until it sends
    /// ``ready`` again; it reconnects by itself.
    case disconnected
    /// A handler started. `hardDeadline` (seconds since 1970) is when the supervisor kills the
    /// child if the task is still running.
    case started(id: String, name: String, hardDeadline: Double?)
    /// A task ended (any outcome) and was settled with the broker.
    case finished(id: String, outcome: String)
    /// The child is stopping to be replaced: `max-tasks` or `max-memory`.
    case recycling(reason: String)
    /// A task came redelivered: how often did it kill children? Answered by a ``SupervisorNotice``.
    case deathsQuery(id: String)

    /// The line written to the pipe (newline included). Task reports come twice per task, so
    /// they are plain text (`S <deadline or -> <id>`, `F <id>`, and `Q <id>` for a query);
    /// the rare ones are JSON.
    var line: Data {
        switch self {
        case .started(let id, _, let deadline):
            return Data("S \(deadline.map { String($0) } ?? "-") \(id)\n".utf8)
        case .finished(let id, _):
            return Data("F \(id)\n".utf8)
        case .deathsQuery(let id):
            return Data("Q \(id)\n".utf8)
        default:
            var data = (try? JSONEncoder().encode(self)) ?? Data()
            data.append(0x0A)
            return data
        }
    }

    init?(line: Substring) {
        if line.hasPrefix("S ") {
            let parts = line.dropFirst(2).split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            self = .started(id: String(parts[1]), name: "", hardDeadline: Double(parts[0]))
        } else if line.hasPrefix("F ") {
            self = .finished(id: String(line.dropFirst(2)), outcome: "")
        } else if line.hasPrefix("Q ") {
            self = .deathsQuery(id: String(line.dropFirst(2)))
        } else {
            guard let value = try? JSONDecoder().decode(ChildReport.self, from: Data(line.utf8)) else { return nil }
            self = value
        }
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

/// Time a handler gets past its soft time limit (cancellation) before its child is killed.
let hardTimeLimitGrace = Duration.seconds(5)
