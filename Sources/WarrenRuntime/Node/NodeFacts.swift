import Foundation
import WarrenCore

/// What the supervisor knows when a control request comes, gathered on its actor for
/// ``ControlState`` to answer from. Plain values: the answers are tested without processes.
struct NodeFacts: Sendable, Equatable {
    /// A task a child reported started (`S`) and not finished yet.
    struct RunningTask: Sendable, Equatable {
        var id: String
        /// The queue of the child running it.
        var queue: String
        /// The child's process id.
        var pid: Int32
        /// The task's name (empty when the child did not say).
        var name: String = ""
        /// When the supervisor heard it started, in seconds since 1970.
        var since: Double? = nil
    }

    /// A configured queue, as `active_queues` shows it.
    struct QueueFacts: Sendable, Equatable {
        var name: String
        var durable: Bool
        /// `classic` or `quorum`.
        var type: String
    }

    /// The broker as `stats` shows it: never the password.
    struct BrokerFacts: Sendable, Equatable {
        var host: String
        var port: Int
        var user: String
        var vhost: String
        var ssl: Bool
        var heartbeat: Double
    }

    var pid: Int32
    /// Seconds since the supervisor started.
    var uptime: Double
    /// Tasks finished, by task name (every outcome), since the supervisor started.
    var totals: [String: Int]
    var childPIDs: [Int32]
    /// Handlers that may run at once: children × concurrency, over every queue.
    var maxConcurrency: Int
    /// The smallest `max_tasks_per_child` of the queues, if any sets one.
    var maxTasksPerChild: Int?
    /// The smallest soft time limit and its hard limit, in seconds, if any queue sets one.
    var timeouts: (soft: Double, hard: Double)?
    var broker: BrokerFacts
    /// Prefetch over every child.
    var prefetchCount: Int
    /// `getrusage(RUSAGE_SELF)` and of the children that ended, as Celery's `stats` names them.
    var rusage: [(String, Double)]
    /// The task names this binary registers.
    var registered: [String]
    var exchange: String
    var queues: [QueueFacts]
    /// Queues paused now (`cancel_consumer`, `queue pause`).
    var paused: Set<String> = []
    var running: [RunningTask]
    /// Ids revoked on this node, oldest first.
    var revoked: [String]
    /// A safe subset of the configuration (no password, no paths), for `conf`.
    var conf: JSONObject
    /// Software identity for `report` and events.
    var version: String

    /// No facts: what a request whose reply reads none gets.
    static let none = NodeFacts(
        pid: 0, uptime: 0, totals: [:], childPIDs: [], maxConcurrency: 0, maxTasksPerChild: nil, timeouts: nil,
        broker: BrokerFacts(host: "", port: 0, user: "", vhost: "", ssl: false, heartbeat: 0), prefetchCount: 0, rusage: [],
        registered: [], exchange: "", queues: [], running: [], revoked: [], conf: [:], version: "")

    static func == (a: NodeFacts, b: NodeFacts) -> Bool {
        a.pid == b.pid && a.totals == b.totals && a.running == b.running && a.revoked == b.revoked && a.registered == b.registered
            && a.paused == b.paused
    }
}
