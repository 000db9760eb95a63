import Foundation
import WarrenCore

/// Every decision of the Celery node (docs/celery-node.md): which control requests it answers
/// and with what, what revokes and event switches follow, and what its events say. A request
/// and the facts of the moment come in, a reply and actions go out; ``ControlNode`` performs them.
///
/// Replies have the shapes Celery's worker gives (celery/worker/control.py), inside
/// `{"<node>": reply}` (kombu/pidbox.py `Node.dispatch`); an unknown method, a refused one or
/// bad arguments get `{"error": "..."}` and a log line.
struct ControlState: Sendable {
    /// What the node does after a request or a tick.
    enum Action: Sendable, Equatable {
        /// Publish `body` to `reply.celery.pidbox` with this routing key and headers.
        case reply(routingKey: String, ticket: String?, clock: UInt64, body: [UInt8])
        /// Something the supervisor must do.
        case command(Command)
        /// A line for the supervisor's log.
        case log(LogLine)
    }

    /// What a request asks of the supervisor (``ControlNode`` hands it over).
    enum Command: Sendable, Equatable {
        /// Record these ids as revoked node-wide and tell every child; with `terminate`, cancel
        /// their running handlers (killing the child if that cannot be done, or if they still
        /// run after the grace), or with `atOnce` (`signal=SIGKILL`) kill the children running them.
        case revoke([String], terminate: Bool, atOnce: Bool = false)
        /// Task events were switched on or off.
        case eventsChanged(Bool)
        /// `cancel_consumer`: the queue's children stop warmly, none starts until resumed.
        case pauseQueue(String)
        /// `add_consumer` of a paused queue: its children start again.
        case resumeQueue(String)
        /// `pool_grow` (positive) / `pool_shrink` (negative): child slots of the queue.
        case resizePool(queue: String, by: Int)
        /// `shutdown`: a warm shutdown, as SIGTERM.
        case shutdown
        /// `time_limit`: these limits (seconds) replace the queue's for the task name; both
        /// `nil`: back to the queue's.
        case timeLimit(task: String, soft: Double?, hard: Double?)
    }

    /// A log line, with its level.
    struct LogLine: Sendable, Equatable {
        enum Level: Sendable, Equatable { case debug, info, warning }
        var level: Level
        var message: String
        var metadata: [String: String] = [:]
    }

    /// The most ids a `revoked` reply lists (the newest): a bounded reply.
    static let maxRevokedListed = 10_000
    /// Seconds between worker heartbeats (Celery's default `freq`).
    static let heartbeatInterval = 2.0

    let node: String
    let control: ControlConfig
    /// Whether task events are on (`events`, `enable_events`, `disable_events`).
    private(set) var eventsEnabled: Bool
    /// The node's Lamport clock (kombu/clocks.py): forwarded on every message received and sent.
    private(set) var clock: UInt64 = 0

    init(node: String, control: ControlConfig, events: Bool) {
        self.node = node
        self.control = control
        self.eventsEnabled = events
    }

    // MARK: - Requests

    /// The methods whose replies read ``NodeFacts``.
    static let methodsReadingFacts: Set<String> = [
        "stats", "registered", "active_queues", "revoked", "conf", "report", "active", "query_task", "revoke",
        "add_consumer", "cancel_consumer", "pool_grow", "pool_shrink", "time_limit",
    ]

    /// Whether a request needs the facts of the moment: one for this node, allowed, whose reply
    /// reads them. Anything else (a flood of malformed requests, say) costs the supervisor nothing.
    func needsFacts(_ body: [UInt8]) -> Bool {
        guard case .success(let request) = ControlRequest.parse(body), request.isFor(node: node) else { return false }
        return control.allows(request.method) && Self.methodsReadingFacts.contains(request.method)
    }

    /// A message from the node's pidbox queue.
    ///
    /// - Parameters:
    ///   - clock: Its `clock` header, if any.
    ///   - expires: Its `expires` header (seconds since 1970; 0 or nil: never).
    mutating func received(_ body: [UInt8], clock senderClock: UInt64?, expires: Double?, now: Date, facts: NodeFacts) -> [Action] {
        clock = max(clock, senderClock ?? 0) + 1
        if let expires, expires > 0, now.timeIntervalSince1970 > expires {
            return [.log(LogLine(level: .debug, message: "control request expired; ignored"))]
        }
        let request: ControlRequest
        switch ControlRequest.parse(body) {
        case .success(let parsed): request = parsed
        case .failure(let problem):
            let text: String
            switch problem {
            case .tooLarge(let size): text = "request of \(size) bytes is over \(ControlRequest.maxBodyBytes)"
            case .notJSON(let why): text = "request is not JSON: \(why)"
            case .invalid(let why): text = "invalid request: \(why)"
            }
            var actions: [Action] = [.log(LogLine(level: .warning, message: "control request refused", metadata: ["error": text]))]
            if let address = ControlRequest.replyAddress(body, node: node) {
                actions.append(reply(["error": .string(text)], routingKey: address.routingKey, ticket: address.ticket))
            }
            return actions
        }
        guard request.isFor(node: node) else { return [] }
        let (answer, effects) = answer(request, now: now, facts: facts)
        var actions = effects
        if case .object(let object) = answer, let error = object["error"]?.stringValue {
            actions.append(
                .log(
                    LogLine(
                        level: .warning, message: "control request refused",
                        metadata: ["method": ErrorText.bounded(request.method, maxBytes: 64), "error": error])))
        } else {
            actions.append(
                .log(LogLine(level: .debug, message: "control request answered", metadata: ["method": request.method])))
        }
        if let replyTo = request.replyTo {
            actions.append(reply(answer, routingKey: replyTo, ticket: request.ticket))
        }
        return actions
    }

    private mutating func reply(_ answer: JSONValue, routingKey: String, ticket: String?) -> Action {
        clock += 1
        return .reply(routingKey: routingKey, ticket: ticket, clock: clock, body: JSONValue.object([node: answer]).serialized())
    }

    private static func ok(_ text: String) -> JSONValue { ["ok": .string(text)] }
    private static func error(_ text: String) -> JSONValue { ["error": .string(text)] }

    /// The reply to a request for this node, and what follows from it.
    private mutating func answer(_ request: ControlRequest, now: Date, facts: NodeFacts) -> (JSONValue, [Action]) {
        let method = request.method
        guard ControlConfig.knownMethods.contains(method) else {
            return (Self.error("No such control command: \(ErrorText.bounded(method, maxBytes: 64))"), [])
        }
        guard control.allows(method) else {
            return (Self.error("\(method) is not allowed on this node (control.allow)"), [])
        }
        let arguments = request.arguments
        switch method {
        case "ping": return (Self.ok("pong"), [])
        case "clock": return (["clock": .int(Int64(clamping: clock))], [])
        case "stats": return (stats(facts), [])
        case "registered": return (.array(facts.registered.sorted().map(JSONValue.string)), [])
        case "active_queues": return (.array(facts.queues.map { Self.queue($0, exchange: facts.exchange) }), [])
        case "revoked":
            return (.array(facts.revoked.suffix(Self.maxRevokedListed).map(JSONValue.string)), [])
        case "conf": return (.object(facts.conf), [])
        case "report":
            return (
                Self.ok("software -> warren:\(facts.version) (Swift) platform -> Linux\nnode -> \(node)\nuptime -> \(Int(facts.uptime))s"),
                []
            )
        case "active": return (.array(facts.running.map { info($0) }), [])
        case "reserved", "scheduled":
            // Prefetched and eta tasks live in the children, which do not report them yet.
            return (.array([]), [])
        case "query_task":
            guard let ids = Self.ids(arguments["ids"] ?? arguments["task_id"]) else {
                return (Self.error("query_task needs ids: a task id or a list of up to \(ControlRequest.maxItems)"), [])
            }
            let wanted = Set(ids)
            var found = JSONObject()
            for task in facts.running where wanted.contains(task.id) { found[task.id] = ["active", info(task)] }
            return (.object(found), [])
        case "revoke": return revoke(arguments, running: Set(facts.running.map(\.id)))
        case "enable_events":
            if eventsEnabled { return (Self.ok("task events already enabled"), []) }
            eventsEnabled = true
            return (Self.ok("task events enabled"), [.command(.eventsChanged(true))])
        case "disable_events":
            if !eventsEnabled { return (Self.ok("task events already disabled"), []) }
            eventsEnabled = false
            return (Self.ok("task events disabled"), [.command(.eventsChanged(false))])
        case "cancel_consumer", "add_consumer":
            return consumer(method, arguments, facts: facts)
        case "pool_grow", "pool_shrink":
            return resizePool(method, arguments, facts: facts)
        case "shutdown":
            return (Self.ok("shutting down warmly"), [.command(.shutdown)])
        case "time_limit":
            return timeLimit(arguments, facts: facts)
        default:
            return (Self.error("\(method) is not supported by Warren yet"), [])
        }
    }

    /// `cancel_consumer(queue)` / `add_consumer(queue)`: pause or resume a configured queue. Warren
    /// consumes only the queues of its config, so `add_consumer` of another queue is refused (its
    /// exchange and routing key arguments are not read).
    private func consumer(_ method: String, _ arguments: JSONObject, facts: NodeFacts) -> (JSONValue, [Action]) {
        guard let queue = arguments["queue"]?.stringValue, !queue.isEmpty, queue.utf8.count <= 255 else {
            return (Self.error("\(method) needs queue: the name of a queue"), [])
        }
        guard facts.queues.contains(where: { $0.name == queue }) else {
            return (
                Self.error(
                    "no queue \(ErrorText.quoted(queue, limit: 80)) in this node's config; Warren consumes only its configured queues"),
                []
            )
        }
        let paused = facts.paused.contains(queue)
        if method == "cancel_consumer" {
            return (Self.ok("no longer consuming from \(queue)"), paused ? [] : [.command(.pauseQueue(queue))])
        }
        // A configured name, quoted as Celery's repr does.
        if !paused { return (Self.ok("already consuming from '\(queue)'"), []) }
        return (Self.ok("add consumer \(queue)"), [.command(.resumeQueue(queue))])
    }

    /// The longest time limit `time_limit` sets: a week.
    static let maxTimeLimit = 604_800.0

    /// `time_limit(task_name, soft, hard)` (celery/worker/control.py): for a registered task,
    /// limits in seconds (1 s to a week; `null` for none) that replace its queue's `time_limit`
    /// in every child, for tasks that start from now on.
    private func timeLimit(_ arguments: JSONObject, facts: NodeFacts) -> (JSONValue, [Action]) {
        guard let task = arguments["task_name"]?.stringValue, facts.registered.contains(task) else {
            return (Self.error("unknown task"), [])  // Celery's words
        }
        func seconds(_ key: String) -> Double?? {
            switch arguments[key] {
            case nil, .null?: return .some(nil)
            case .int(let n)? where n >= 1 && Double(n) <= Self.maxTimeLimit: return .some(Double(n))
            case .double(let d)? where d.isFinite && d >= 1 && d <= Self.maxTimeLimit: return .some(d)
            default: return nil
            }
        }
        guard let soft = seconds("soft"), let hard = seconds("hard") else {
            return (Self.error("time_limit: soft and hard must be seconds from 1 to \(Int(Self.maxTimeLimit)), or null"), [])
        }
        if let soft, let hard, hard < soft { return (Self.error("time_limit: hard must not be below soft"), []) }
        return (Self.ok("time limits set successfully"), [.command(.timeLimit(task: task, soft: soft, hard: hard))])
    }

    /// `pool_grow(n)` / `pool_shrink(n)`: `n` (1 to 100, default 1) child processes more or fewer
    /// for `queue` (Warren's argument; it may be left out when the node has one queue).
    private func resizePool(_ method: String, _ arguments: JSONObject, facts: NodeFacts) -> (JSONValue, [Action]) {
        let n: Int
        switch arguments["n"] {
        case nil, .null?: n = 1
        case .int(let value)? where (1...100).contains(value): n = Int(value)
        default: return (Self.error("\(method): n must be a whole number from 1 to 100"), [])
        }
        let queue: String
        if let named = arguments["queue"]?.stringValue {
            guard facts.queues.contains(where: { $0.name == named }) else {
                return (Self.error("\(method): no queue \(ErrorText.quoted(named, limit: 80)) in this node's config"), [])
            }
            queue = named
        } else if facts.queues.count == 1 {
            queue = facts.queues[0].name
        } else {
            return (
                Self.error(
                    "\(method) needs queue: this node has \(facts.queues.count) queues, each with its own children "
                        + "(\(facts.queues.map(\.name).joined(separator: ", ")))"), []
            )
        }
        let grow = method == "pool_grow"
        return (Self.ok(grow ? "pool will grow" : "pool will shrink"), [.command(.resizePool(queue: queue, by: grow ? n : -n))])
    }

    private func revoke(_ arguments: JSONObject, running: Set<String>) -> (JSONValue, [Action]) {
        guard let ids = Self.ids(arguments["task_id"]), !ids.isEmpty else {
            return (Self.error("revoke needs task_id: a task id or a list of up to \(ControlRequest.maxItems)"), [])
        }
        switch arguments["terminate"] {
        case nil, .null?, .bool?: break
        default: return (Self.error("terminate must be true or false"), [])
        }
        if arguments["terminate"]?.boolValue == true {
            // As Celery: the ids terminated, of those running now (the child running one is killed).
            let terminated = ids.filter(running.contains)
            let text = terminated.isEmpty ? "terminate: tasks unknown" : "terminate: \(terminated.joined(separator: ", "))"
            let atOnce: Bool
            switch arguments["signal"] {
            case .string(let name)?: atOnce = ["SIGKILL", "KILL", "9"].contains(name.uppercased())
            case .int(let number)?: atOnce = number == 9
            default: atOnce = false
            }
            return (Self.ok(text), [.command(.revoke(ids, terminate: true, atOnce: atOnce))])
        }
        return (Self.ok("tasks \(ids.joined(separator: ", ")) flagged as revoked"), [.command(.revoke(ids, terminate: false))])
    }

    /// A task id or a list of them, each 1 to 255 bytes, at most ``ControlRequest/maxItems``.
    private static func ids(_ value: JSONValue?) -> [String]? {
        let items: [JSONValue]
        switch value {
        case .string?: items = [value!]
        case .array(let list)?: items = list
        default: return nil
        }
        guard items.count <= ControlRequest.maxItems else { return nil }
        var ids: [String] = []
        for item in items {
            guard let id = item.stringValue, !id.isEmpty, id.utf8.count <= 255,
                !id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else { return nil }
            ids.append(id)
        }
        return ids
    }

    // MARK: - Reply bodies

    private func stats(_ facts: NodeFacts) -> JSONValue {
        var total = JSONObject()
        for (name, count) in facts.totals.sorted(by: { $0.key < $1.key }) { total[name] = .int(Int64(count)) }
        let broker = facts.broker
        let timeouts: JSONValue = facts.timeouts.map { [.double($0.soft), .double($0.hard)] } ?? [.null, .null]
        return [
            "total": .object(total),
            "pid": .int(Int64(facts.pid)),
            "clock": .string(String(clock)),
            "uptime": .int(Int64(facts.uptime.rounded())),
            "pool": [
                "implementation": "warren:supervisor",
                "max-concurrency": .int(Int64(facts.maxConcurrency)),
                "processes": .array(facts.childPIDs.map { .int(Int64($0)) }),
                "max-tasks-per-child": facts.maxTasksPerChild.map { .int(Int64($0)) } ?? "N/A",
                "put-guarded-by-semaphore": false,
                "timeouts": timeouts,
                "writes": ["total": 0, "avg": "0.00%", "all": "", "raw": "", "strategy": "", "inqueues": ["total": 0, "active": 0]],
            ],
            "broker": [
                "hostname": .string(broker.host), "userid": .string(broker.user), "virtual_host": .string(broker.vhost),
                "port": .int(Int64(broker.port)), "insist": false, "ssl": .bool(broker.ssl), "transport": "amqp",
                "connect_timeout": 4, "transport_options": [:], "login_method": "PLAIN", "uri_prefix": .null,
                "heartbeat": .double(broker.heartbeat), "failover_strategy": "round-robin", "alternates": [],
            ],
            "prefetch_count": .int(Int64(facts.prefetchCount)),
            "rusage": .object(JSONObject(facts.rusage.map { ($0.0, JSONValue.double($0.1)) })),
        ]
    }

    /// A queue as kombu's `Queue.as_dict(recurse=True)` shows it.
    private static func queue(_ queue: NodeFacts.QueueFacts, exchange: String) -> JSONValue {
        [
            "name": .string(queue.name),
            "exchange": [
                "name": .string(exchange), "type": "topic", "arguments": .null, "durable": true, "passive": false, "auto_delete": false,
                "delivery_mode": .null, "no_declare": false,
            ],
            "routing_key": .null, "queue_arguments": queue.type == "quorum" ? ["x-queue-type": "quorum"] : .null,
            "binding_arguments": .null, "consumer_arguments": .null, "durable": .bool(queue.durable), "exclusive": false,
            "auto_delete": false, "no_ack": false, "alias": .null, "bindings": [], "no_declare": .null, "expires": .null,
            "message_ttl": .null, "max_length": .null, "max_length_bytes": .null, "max_priority": .null,
        ]
    }

    /// A running task as Celery's `Request.info` shows it, with what the supervisor knows
    /// (the report pipe carries its id and name: the arguments are `null`).
    private func info(_ task: NodeFacts.RunningTask) -> JSONValue {
        let name: JSONValue = task.name.isEmpty ? .null : .string(task.name)
        return [
            "id": .string(task.id), "name": name, "args": .null, "kwargs": .null, "type": name, "hostname": .string(node),
            "time_start": task.since.map(JSONValue.double) ?? .null, "acknowledged": false,
            "delivery_info": ["exchange": .null, "routing_key": .string(task.queue), "priority": .null, "redelivered": .null],
            "worker_pid": .int(Int64(task.pid)),
        ]
    }

    // MARK: - Events

    /// A worker event (`worker-online`, `worker-heartbeat`, `worker-offline`) as Celery's
    /// worker sends it (celery/worker/heartbeat.py, celery/events/event.py), and its routing key.
    ///
    /// - Parameters:
    ///   - utcoffset: Hours, as Celery computes it (`time.timezone // 3600`: west is positive).
    ///   - loadAverage: The 1, 5 and 15 minute load averages.
    mutating func workerEvent(_ type: String, now: Date, facts: NodeFacts, utcoffset: Int, loadAverage: [Double]) -> (
        routingKey: String, body: [UInt8]
    ) {
        clock += 1
        let event: JSONValue = [
            "type": .string(type),
            "hostname": .string(node),
            "utcoffset": .int(Int64(utcoffset)),
            "pid": .int(Int64(facts.pid)),
            "clock": .int(Int64(clamping: clock)),
            "freq": .double(Self.heartbeatInterval),
            "active": .int(Int64(facts.running.count)),
            "processed": .int(Int64(facts.totals.values.reduce(0, +))),
            "loadavg": .array(loadAverage.map { .double(($0 * 100).rounded() / 100) }),
            "sw_ident": "warren",
            "sw_ver": .string(facts.version),
            "sw_sys": "Linux",
            "timestamp": .double(now.timeIntervalSince1970),
        ]
        return (type.replacingOccurrences(of: "-", with: "."), event.serialized())
    }

    /// Celery's `utcoffset()` for `zone` at `date`: hours west of UTC, floored.
    static func utcoffset(_ zone: TimeZone, at date: Date) -> Int {
        let west = -zone.secondsFromGMT(for: date)
        return Int((Double(west) / 3600).rounded(.down))
    }
}
