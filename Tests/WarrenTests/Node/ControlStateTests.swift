import Foundation
import Testing

@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Celery node: control requests and replies")
struct ControlStateTests {
    typealias Action = ControlState.Action
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    static let facts = NodeFacts(
        pid: 42, uptime: 12.4, totals: ["demo.add": 3, "demo.noop": 1], childPIDs: [43, 44], maxConcurrency: 4, maxTasksPerChild: 100,
        timeouts: (soft: 10, hard: 15),
        broker: .init(host: "rabbit", port: 5672, user: "guest", vhost: "/", ssl: false, heartbeat: 30), prefetchCount: 8,
        rusage: [("utime", 1.5)], registered: ["demo.noop", "demo.add"], exchange: "warren",
        queues: [.init(name: "default", durable: true, type: "classic")],
        running: [.init(id: "t-1", queue: "default", pid: 43, name: "demo.sleep", since: 1_799_999_990.5)], revoked: ["old"],
        conf: ["exchange": "warren"], version: "0.1.0")

    func state(allow: [String] = ControlConfig.defaultAllow, events: Bool = false) -> ControlState {
        ControlState(node: "warren@a", control: ControlConfig(allow: allow), events: events)
    }

    func request(_ method: String, _ arguments: JSONObject = [:], destination: JSONValue = .null, replyTo: String? = "oid-1")
        -> [UInt8]
    {
        var body: JSONObject = ["method": .string(method), "arguments": .object(arguments), "destination": destination]
        if let replyTo {
            body["ticket"] = "ticket-1"
            body["reply_to"] = ["exchange": "reply.celery.pidbox", "routing_key": .string(replyTo)]
        }
        return JSONValue.object(body).serialized()
    }

    /// The one reply among `actions`, as `{node: reply}`'s reply.
    func reply(_ actions: [Action], sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
        let replies = actions.compactMap { action -> (String, String?, [UInt8])? in
            if case .reply(let key, let ticket, _, let body) = action { return (key, ticket, body) }
            return nil
        }
        try #require(replies.count == 1, sourceLocation: sourceLocation)
        #expect(replies[0].0 == "oid-1" && replies[0].1 == "ticket-1", sourceLocation: sourceLocation)
        let body = try JSONValue(parsing: replies[0].2)
        #expect(body.objectValue?.keys == ["warren@a"], sourceLocation: sourceLocation)
        return try #require(body["warren@a"])
    }

    func send(_ state: inout ControlState, _ body: [UInt8], clock: UInt64? = nil, expires: Double? = nil) -> [Action] {
        state.received(body, clock: clock, expires: expires, now: now, facts: Self.facts)
    }

    @Test("ping, registered (sorted), clock, revoked, conf, active and query_task answer as Celery's worker")
    func simpleMethods() throws {
        var s = state()
        #expect(try reply(send(&s, request("ping"))) == ["ok": "pong"])
        #expect(try reply(send(&s, request("registered"))) == ["demo.add", "demo.noop"])
        #expect(try reply(send(&s, request("revoked"))) == ["old"])
        #expect(try reply(send(&s, request("conf"))) == ["exchange": "warren"])
        #expect(try reply(send(&s, request("reserved"))) == [])
        #expect(try reply(send(&s, request("scheduled"))) == [])
        let active = try reply(send(&s, request("active")))
        #expect(active.arrayValue?.count == 1)
        #expect(
            active.arrayValue?[0]["id"] == "t-1" && active.arrayValue?[0]["worker_pid"] == 43
                && active.arrayValue?[0]["hostname"] == "warren@a")
        #expect(active.arrayValue?[0]["delivery_info"]?["routing_key"] == "default")
        #expect(active.arrayValue?[0]["name"] == "demo.sleep" && active.arrayValue?[0]["time_start"] == .double(1_799_999_990.5))
        let query = try reply(send(&s, request("query_task", ["ids": ["t-1", "t-2"]])))
        #expect(query.objectValue?.keys == ["t-1"] && query["t-1"]?.arrayValue?[0] == "active")
        let clock = try reply(send(&s, request("clock")))
        #expect(clock["clock"]?.intValue == Int(s.clock) - 1)  // the reply forwards the clock once more
    }

    @Test("stats has the keys Flower reads, and never a password")
    func stats() throws {
        var s = state()
        let stats = try reply(send(&s, request("stats")))
        #expect(stats["total"] == ["demo.add": 3, "demo.noop": 1])
        #expect(stats["pid"] == 42 && stats["uptime"] == 12 && stats["prefetch_count"] == 8)
        #expect(stats["pool"]?["max-concurrency"] == 4 && stats["pool"]?["processes"] == [43, 44])
        #expect(stats["pool"]?["max-tasks-per-child"] == 100 && stats["pool"]?["timeouts"] == [10.0, 15.0])
        #expect(stats["broker"]?["hostname"] == "rabbit" && stats["broker"]?["userid"] == "guest" && stats["broker"]?["port"] == 5672)
        #expect(stats["broker"]?["virtual_host"] == "/" && stats["broker"]?["ssl"] == false && stats["broker"]?["heartbeat"] == 30.0)
        #expect(stats["rusage"]?["utime"] == 1.5)
        #expect(stats["clock"]?.stringValue != nil)
        #expect(!JSONValue.object(stats.objectValue!).jsonText.contains("password"))
    }

    @Test("active_queues gives kombu's Queue.as_dict shape")
    func activeQueues() throws {
        var s = state()
        let queues = try reply(send(&s, request("active_queues")))
        #expect(queues.arrayValue?[0]["name"] == "default" && queues.arrayValue?[0]["exchange"]?["name"] == "warren")
        #expect(queues.arrayValue?[0]["exchange"]?["type"] == "topic" && queues.arrayValue?[0]["durable"] == true)
    }

    @Test("an unknown method, a refused one and bad arguments get an error reply and a warning")
    func errors() throws {
        var s = state()
        var actions = send(&s, request("nosuch"))
        #expect(try reply(actions) == ["error": "No such control command: nosuch"])
        #expect(actions.contains { if case .log(let line) = $0 { return line.level == .warning } else { return false } })
        actions = send(&s, request("shutdown"))
        #expect(try reply(actions)["error"]?.stringValue?.contains("not allowed") == true)
        actions = send(&s, request("revoke", ["task_id": 5]))
        #expect(try reply(actions)["error"] != nil)
        #expect(!actions.contains { if case .command = $0 { return true } else { return false } })
        actions = send(&s, request("revoke", ["task_id": .array(Array(repeating: "x", count: 1_001))]))
        #expect(try reply(actions)["error"] != nil)
        actions = send(&s, request("ping", replyTo: nil))
        #expect(!actions.contains { if case .reply = $0 { return true } else { return false } })
    }

    @Test("a body that is not a request: answered with an error when it says where, else only logged")
    func malformed() throws {
        var s = state()
        let noMethod = JSONValue.object([
            "ticket": "ticket-1", "reply_to": ["exchange": "reply.celery.pidbox", "routing_key": "oid-1"], "method": 5,
        ]).serialized()
        #expect(try reply(send(&s, noMethod))["error"] != nil)
        // A bad request for other nodes is theirs to answer.
        var forOthers = try JSONValue(parsing: noMethod).objectValue!
        forOthers["destination"] = ["warren@b"]
        #expect(!send(&s, JSONValue.object(forOthers).serialized()).contains { if case .reply = $0 { return true } else { return false } })
        forOthers["destination"] = ["warren@b", "warren@a"]
        #expect(try reply(send(&s, JSONValue.object(forOthers).serialized()))["error"] != nil)
        #expect(send(&s, Array("not json".utf8)).allSatisfy { if case .log = $0 { return true } else { return false } })
        #expect(send(&s, Array(repeating: 0x20, count: ControlRequest.maxBodyBytes + 1)).count == 1)
        // A reply to any other exchange is never sent: the node would publish where the sender says.
        let elsewhere = JSONValue.object([
            "method": "ping", "ticket": "t", "reply_to": ["exchange": "warren", "routing_key": "demo.add"],
        ]).serialized()
        #expect(!send(&s, elsewhere).contains { if case .reply = $0 { return true } else { return false } })
    }

    @Test("destination, glob pattern and expires decide whether the node answers")
    func addressing() {
        var s = state()
        #expect(send(&s, request("ping", destination: ["warren@b"])).isEmpty)
        #expect(send(&s, request("ping", destination: ["warren@b", "warren@a"])).count == 2)
        var body = JSONValue.object([
            "method": "ping", "pattern": "warren@*", "matcher": "glob", "ticket": "t",
            "reply_to": ["exchange": "reply.celery.pidbox", "routing_key": "oid-1"],
        ]).serialized()
        #expect(send(&s, body).count == 2)
        body = JSONValue.object(["method": "ping", "pattern": "celery@*", "matcher": "glob"]).serialized()
        #expect(send(&s, body).isEmpty)
        let expired = send(&s, request("ping"), expires: now.timeIntervalSince1970 - 1)
        #expect(!expired.contains { if case .reply = $0 { return true } else { return false } })
        #expect(send(&s, request("ping"), expires: 0).count == 2)
    }

    @Test("revoke records ids (one or a list) and replies as Celery; terminate names the running ones")
    func revoke() throws {
        var s = state()
        var actions = send(&s, request("revoke", ["task_id": "a"]))
        #expect(actions.contains(.command(.revoke(["a"], terminate: false))))
        #expect(try reply(actions) == ["ok": "tasks a flagged as revoked"])
        actions = send(&s, request("revoke", ["task_id": ["a", "t-1"], "terminate": true, "signal": "SIGKILL"]))
        #expect(actions.contains(.command(.revoke(["a", "t-1"], terminate: true, atOnce: true))))
        #expect(try reply(actions) == ["ok": "terminate: t-1"])
        actions = send(&s, request("revoke", ["task_id": "a", "terminate": true]))
        #expect(try reply(actions) == ["ok": "terminate: tasks unknown"])
        #expect(actions.contains(.command(.revoke(["a"], terminate: true, atOnce: false))))  // Celery's default SIGTERM: cooperative
        actions = send(&s, request("revoke", ["task_id": "a", "terminate": true, "signal": 9]))
        #expect(actions.contains(.command(.revoke(["a"], terminate: true, atOnce: true))))
    }

    @Test("enable_events and disable_events switch task events, once")
    func events() throws {
        var s = state()
        var actions = send(&s, request("enable_events"))
        #expect(actions.contains(.command(.eventsChanged(true))) && s.eventsEnabled)
        #expect(try reply(actions) == ["ok": "task events enabled"])
        actions = send(&s, request("enable_events"))
        #expect(try reply(actions) == ["ok": "task events already enabled"])
        actions = send(&s, request("disable_events"))
        #expect(actions.contains(.command(.eventsChanged(false))) && !s.eventsEnabled)
    }

    @Test("cancel_consumer pauses a configured queue and add_consumer resumes it, with Celery's replies; other queues are refused")
    func consumers() throws {
        var s = state()
        var actions = send(&s, request("cancel_consumer", ["queue": "default"]))
        #expect(actions.contains(.command(.pauseQueue("default"))))
        #expect(try reply(actions) == ["ok": "no longer consuming from default"])
        actions = send(&s, request("add_consumer", ["queue": "default"]))
        #expect(try reply(actions) == ["ok": "already consuming from 'default'"])
        #expect(!actions.contains { if case .command = $0 { return true } else { return false } })
        var paused = Self.facts
        paused.paused = ["default"]
        actions = s.received(request("add_consumer", ["queue": "default"]), clock: nil, expires: nil, now: now, facts: paused)
        #expect(actions.contains(.command(.resumeQueue("default"))))
        #expect(try reply(actions) == ["ok": "add consumer default"])
        actions = s.received(request("cancel_consumer", ["queue": "default"]), clock: nil, expires: nil, now: now, facts: paused)
        #expect(try reply(actions) == ["ok": "no longer consuming from default"])
        #expect(!actions.contains { if case .command = $0 { return true } else { return false } })
        for bad: JSONObject in [["queue": "other"], [:], ["queue": 5], ["queue": .string(String(repeating: "q", count: 300))]] {
            actions = send(&s, request("add_consumer", bad))
            #expect(try reply(actions)["error"] != nil)
            #expect(!actions.contains { if case .command = $0 { return true } else { return false } })
        }
        #expect(s.needsFacts(request("cancel_consumer", ["queue": "default"])))
    }

    @Test(
        "pool_grow, pool_shrink and shutdown are refused unless allowed; then they resize a queue's children (n 1 to 100) and stop warmly")
    func poolAndShutdown() throws {
        var s = state()
        #expect(try reply(send(&s, request("pool_grow")))["error"]?.stringValue?.contains("not allowed") == true)
        s = state(allow: ControlConfig.knownMethods)
        var actions = send(&s, request("pool_grow"))  // one queue: it need not be named
        #expect(actions.contains(.command(.resizePool(queue: "default", by: 1))))
        #expect(try reply(actions) == ["ok": "pool will grow"])
        actions = send(&s, request("pool_shrink", ["n": 3, "queue": "default"]))
        #expect(actions.contains(.command(.resizePool(queue: "default", by: -3))))
        #expect(try reply(actions) == ["ok": "pool will shrink"])
        for bad: JSONObject in [["n": 0], ["n": 101], ["n": "2"], ["n": 1.5], ["queue": "other"]] {
            actions = send(&s, request("pool_grow", bad))
            #expect(try reply(actions)["error"] != nil)
            #expect(!actions.contains { if case .command = $0 { return true } else { return false } })
        }
        var two = Self.facts
        two.queues.append(.init(name: "slow", durable: true, type: "quorum"))
        actions = s.received(request("pool_grow"), clock: nil, expires: nil, now: now, facts: two)
        #expect(try reply(actions)["error"]?.stringValue?.contains("needs queue") == true)
        actions = send(&s, request("shutdown"))
        #expect(actions.contains(.command(.shutdown)))
    }

    @Test("time_limit: a registered task, 1 s to a week or null, hard not below soft; Celery's 'unknown task' otherwise")
    func timeLimit() throws {
        var s = state(allow: ControlConfig.knownMethods)
        var actions = send(&s, request("time_limit", ["task_name": "demo.add", "soft": 2, "hard": 3.5]))
        #expect(actions.contains(.command(.timeLimit(task: "demo.add", soft: 2, hard: 3.5))))
        #expect(try reply(actions) == ["ok": "time limits set successfully"])
        actions = send(&s, request("time_limit", ["task_name": "demo.add"]))
        #expect(actions.contains(.command(.timeLimit(task: "demo.add", soft: nil, hard: nil))))
        #expect(try reply(send(&s, request("time_limit", ["task_name": "nosuch", "soft": 2]))) == ["error": "unknown task"])
        for bad: JSONObject in [
            ["task_name": "demo.add", "soft": 0], ["task_name": "demo.add", "soft": 1e12], ["task_name": "demo.add", "hard": "5"],
            ["task_name": "demo.add", "soft": 5, "hard": 2], ["soft": 2],
        ] {
            actions = send(&s, request("time_limit", bad))
            #expect(try reply(actions)["error"] != nil)
            #expect(!actions.contains { if case .command = $0 { return true } else { return false } })
        }
        var defaults = state()
        let refused = try reply(send(&defaults, request("time_limit", ["task_name": "demo.add"])))
        #expect(refused["error"]?.stringValue?.contains("not allowed") == true)
    }

    @Test("only an allowed request for this node whose reply reads them needs the supervisor's facts")
    func needsFacts() {
        let s = state(allow: ["ping", "stats"])
        #expect(s.needsFacts(request("stats")))
        #expect(!s.needsFacts(request("ping")) && !s.needsFacts(request("registered")) && !s.needsFacts(request("nosuch")))
        #expect(!s.needsFacts(request("stats", destination: ["warren@b"])) && !s.needsFacts(Array("junk".utf8)))
    }

    @Test("the Lamport clock follows the sender's and moves on every message")
    func clock() {
        var s = state()
        _ = send(&s, request("ping", replyTo: nil), clock: 100)
        #expect(s.clock == 101)
        _ = send(&s, request("ping"), clock: 5)
        #expect(s.clock == 103)
    }

    @Test("worker events: Celery's fields, hostname = node, routing key with dots")
    func workerEvent() throws {
        var s = state()
        let (key, body) = s.workerEvent("worker-heartbeat", now: now, facts: Self.facts, utcoffset: -1, loadAverage: [0.123, 1, 2])
        #expect(key == "worker.heartbeat")
        let event = try JSONValue(parsing: body)
        #expect(event["type"] == "worker-heartbeat" && event["hostname"] == "warren@a" && event["pid"] == 42)
        #expect(event["freq"] == 2.0 && event["active"] == 1 && event["processed"] == 4 && event["loadavg"] == [0.12, 1.0, 2.0])
        #expect(event["sw_ident"] == "warren" && event["sw_sys"] == "Linux" && event["utcoffset"] == -1)
        #expect(event["timestamp"] == .double(now.timeIntervalSince1970) && event["clock"] == 1)
        #expect(ControlState.utcoffset(TimeZone(identifier: "UTC")!, at: now) == 0)
        #expect(ControlState.utcoffset(TimeZone(identifier: "Europe/Berlin")!, at: now) == -1)
        #expect(ControlState.utcoffset(TimeZone(identifier: "America/St_Johns")!, at: now) == 3)  // 3.5 west, floored
    }
}

@Suite("Celery node: revoked ids")
struct RevokedTasksTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("bounded: the oldest go first")
    func bounded() {
        var revoked = RevokedTasks(maxCount: 3, expiry: 100)
        revoked.insert(["a", "b", "c"], now: t0)
        revoked.insert(["d"], now: t0.addingTimeInterval(1))
        #expect(revoked.count == 3 && !revoked.contains("a", now: t0) && revoked.contains("d", now: t0))
        #expect(revoked.ids(now: t0.addingTimeInterval(1)) == ["b", "c", "d"])
        // Revoked again: it is the newest now.
        revoked.insert(["b"], now: t0.addingTimeInterval(2))
        revoked.insert(["e"], now: t0.addingTimeInterval(3))
        #expect(revoked.ids(now: t0.addingTimeInterval(3)) == ["d", "b", "e"])
    }

    @Test("expiring: an id is forgotten after the expiry")
    func expiring() {
        var revoked = RevokedTasks(maxCount: 10, expiry: 100)
        revoked.insert(["a"], now: t0)
        revoked.insert(["b"], now: t0.addingTimeInterval(50))
        #expect(revoked.contains("a", now: t0.addingTimeInterval(99)))
        #expect(!revoked.contains("a", now: t0.addingTimeInterval(100)))
        revoked.purge(now: t0.addingTimeInterval(120))
        #expect(revoked.count == 1 && revoked.ids(now: t0.addingTimeInterval(120)) == ["b"])
    }

    @Test("Celery's bounds: 50,000 ids, 3 hours")
    func celeryBounds() {
        #expect(RevokedTasks.maxCount == 50_000 && RevokedTasks.expiry == 10_800)
        var revoked = RevokedTasks()
        revoked.insert((0..<50_010).map { "id-\($0)" }, now: t0)
        #expect(revoked.count == 50_000 && !revoked.contains("id-9", now: t0) && revoked.contains("id-10", now: t0))
    }

    @Test("the revoke line a child reads: X <id>, cleaned like every field")
    func notice() {
        #expect(TaskNotice(.revoked, id: "a\nb").line == "X a?b\n")
        #expect(TaskNotice(line: "X abc") == TaskNotice(.revoked, id: "abc"))
        #expect(TaskNotice(line: "K abc") == TaskNotice(.terminate, id: "abc"))
        #expect(TaskNotice(line: "N 1 poison abc") == nil && TaskNotice(line: "X ") == nil && TaskNotice(line: "Xabc") == nil)
    }

    @Test("a revoked task is discarded before anything else is decided")
    func intake() {
        let task = TaskMessage(name: "demo.add", id: "t")
        let intake = DeliveryIntake(redelivered: true, queueType: .classic, deliveryCount: nil)
        #expect(intake.decoded(task, revoked: true) == .revoked)
        #expect(intake.decoded(task) == .askDeaths)
    }
}

@Suite("Celery node: glob")
struct GlobTests {
    @Test("fnmatch's * and ?")
    func glob() {
        #expect(Glob.matches("warren@web-3", pattern: "warren@*"))
        #expect(Glob.matches("warren@web-3", pattern: "*@web-?"))
        #expect(!Glob.matches("warren@web-3", pattern: "celery@*"))
        #expect(Glob.matches("", pattern: "*") && !Glob.matches("a", pattern: ""))
        #expect(!Glob.matches(String(repeating: "a", count: 5_000), pattern: String(repeating: "*a", count: 100) + "b"))
    }
}

@Suite("Celery node: task events")
struct TaskEventTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("received carries the sender's reprs, else Warren's; every event Celery's common fields")
    func received() throws {
        var task = TaskMessage(name: "demo.add", id: "t-1", args: [2, 3], kwargs: ["x": "y"], retries: 1, rootID: "r", parentID: "p")
        var (key, body) = TaskEvent.received(task).encoded(hostname: "warren@a", pid: 7, clock: 3, now: now, utcoffset: 0)
        #expect(key == "task.received")
        var event = try JSONValue(parsing: body)
        #expect(event["type"] == "task-received" && event["uuid"] == "t-1" && event["name"] == "demo.add")
        #expect(event["args"] == "[2, 3]" && event["kwargs"] == "{'x': 'y'}" && event["retries"] == 1)
        #expect(event["root_id"] == "r" && event["parent_id"] == "p" && event["eta"] == .null)
        #expect(event["hostname"] == "warren@a" && event["pid"] == 7 && event["clock"] == 3 && event["utcoffset"] == 0)
        #expect(event["timestamp"] == .double(now.timeIntervalSince1970))
        task.headers["argsrepr"] = "(2, 3)"
        (key, body) = TaskEvent.received(task).encoded(hostname: "warren@a", pid: 7, clock: 4, now: now, utcoffset: 0)
        event = try JSONValue(parsing: body)
        #expect(event["args"] == "(2, 3)")
    }

    @Test("succeeded, failed, retried, rejected and revoked have Celery's fields")
    func outcomes() throws {
        func event(_ kind: TaskEvent.Kind) throws -> JSONValue {
            try JSONValue(parsing: TaskEvent(uuid: "u", kind: kind).encoded(hostname: "n", pid: 1, clock: 1, now: now, utcoffset: 0).body)
        }
        let succeeded = try event(.succeeded(result: "5", runtime: 0.25))
        #expect(succeeded["type"] == "task-succeeded" && succeeded["result"] == "5" && succeeded["runtime"] == 0.25)
        let exception = TaskEvent.exceptionRepr(CeleryException(type: "RuntimeError", message: "boom"))
        #expect(exception == "RuntimeError('boom')")
        let failed = try event(.failed(exception: exception, traceback: "Traceback"))
        #expect(failed["exception"] == "RuntimeError('boom')" && failed["traceback"] == "Traceback")
        #expect(try event(.retried(exception: exception, traceback: ""))["type"] == "task-retried")
        #expect(try event(.rejected(requeue: false))["requeue"] == false)
        let revoked = try event(.revoked(expired: true))
        #expect(revoked["expired"] == true && revoked["terminated"] == false && revoked["signum"] == .null)
    }

    @Test("the switch a child reads: E 1 or E 0")
    func notice() {
        #expect(TaskEventsNotice(on: true).line == "E 1\n" && TaskEventsNotice(line: "E 0") == TaskEventsNotice(on: false))
        #expect(TaskEventsNotice(line: "E 2") == nil)
    }

    @Test("the time limits a child reads: T <soft> <hard> <name>, '-' for none, the name last (it may hold spaces)")
    func timeLimitNotice() {
        let notice = TimeLimitNotice(task: "demo sleep", soft: 1.5, hard: nil)
        #expect(notice.line == "T 1.5 - demo sleep\n")
        #expect(TimeLimitNotice(line: "T 1.5 - demo sleep") == notice)
        #expect(notice.limit == TaskTimeLimit(hard: nil, soft: .milliseconds(1500)))
        #expect(TimeLimitNotice(line: "T - - demo.sleep")?.limit == nil)
        for bad in ["T 1 2", "T x - a", "T -1 - a", "T inf - a", "T nan 1 a", "T 1 2 ", "E 1"] {
            #expect(TimeLimitNotice(line: Substring(bad)) == nil, "\(bad)")
        }
    }
}
