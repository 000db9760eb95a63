import Foundation
import Testing
import Warren

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Celery's own remote control and event receiver (Tests/Interop/celery_node.py, Celery 5.7 in
/// the venv scripts/python-env makes) against the demo supervisor as a Celery node.
@Suite("Celery node", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct CeleryNodeTests {
    /// Runs Tests/Interop/celery_node.py against the test broker; returns its one JSON line.
    static func node(_ arguments: [String]) async throws -> JSONValue {
        try await InteropPython.run("celery_node.py", ["--broker", IntegrationBroker.url] + arguments)
    }

    /// A demo supervisor whose node answers.
    static func start(_ setup: TestSetup) async throws -> DemoWorker {
        let worker = try await DemoWorker(config: setup.path)
        try await worker.waitForLog("celery node: answering remote control", timeout: .seconds(20))
        return worker
    }

    @Test("Celery's cancel_consumer pauses a queue (its consumers go) and add_consumer resumes it; another queue is refused")
    func cancelAndAddConsumer() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await Self.start(setup)
        let node = setup.nodeName
        let slow = setup.queue("slow")
        try await QueuePauseTests.waitForConsumers(1, on: slow)
        var replies = try await Self.node(["broadcast", node, "cancel_consumer", "--arguments", #"{"queue": "\#(slow)"}"#])
        #expect(replies["replies"] == .array([.object([node: ["ok": .string("no longer consuming from \(slow)")]])]))
        try await QueuePauseTests.waitForConsumers(0, on: slow)
        replies = try await Self.node(["broadcast", node, "add_consumer", "--arguments", #"{"queue": "\#(slow)"}"#])
        #expect(replies["replies"] == .array([.object([node: ["ok": .string("add consumer \(slow)")]])]))
        try await QueuePauseTests.waitForConsumers(1, on: slow)
        replies = try await Self.node(["broadcast", node, "add_consumer", "--arguments", #"{"queue": "elsewhere"}"#])
        #expect(replies["replies"]?.arrayValue?.first?[node]?["error"]?.stringValue?.contains("only its configured queues") == true)
        #expect(await worker.stop() == 0)
    }

    @Test("allowed in control.allow, pool_grow and pool_shrink change a queue's children and shutdown stops the node warmly")
    func poolAndShutdown() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup(extra: "control:\n  allow: [ping, pool_grow, pool_shrink, shutdown]\n")
        defer { setup.tearDown() }
        let worker = try await Self.start(setup)
        let node = setup.nodeName
        let slow = setup.queue("slow")
        var replies = try await Self.node(["broadcast", node, "pool_grow", "--arguments", #"{"n": 2, "queue": "\#(slow)"}"#])
        #expect(replies["replies"] == .array([.object([node: ["ok": "pool will grow"]])]))
        try await QueuePauseTests.waitForConsumers(3, on: slow)
        replies = try await Self.node(["broadcast", node, "pool_shrink", "--arguments", #"{"n": 5, "queue": "\#(slow)"}"#])
        #expect(replies["replies"] == .array([.object([node: ["ok": "pool will shrink"]])]))
        try await QueuePauseTests.waitForConsumers(1, on: slow)
        // Several queues: pool_grow must name one.
        replies = try await Self.node(["broadcast", node, "pool_grow"])
        #expect(replies["replies"]?.arrayValue?.first?[node]?["error"]?.stringValue?.contains("needs queue") == true)
        replies = try await Self.node(["broadcast", node, "shutdown"])
        #expect(replies["replies"] == .array([.object([node: ["ok": "shutting down warmly"]])]))
        #expect(await worker.exitStatus() == 0)
        #expect(worker.log.contains { $0.contains("shutdown asked for by remote control") })
    }

    @Test("time_limit(demo.sleep, soft=1) reaches the running children and those that start later; cleared, the queue's limit is back")
    func timeLimit() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup(extra: "control:\n  allow: [ping, time_limit]\n")
        defer { setup.tearDown() }
        let worker = try await Self.start(setup)
        let node = setup.nodeName
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        var replies = try await Self.node(["broadcast", node, "time_limit", "--arguments", #"{"task_name": "demo.sleep", "soft": 1}"#])
        #expect(replies["replies"] == .array([.object([node: ["ok": "time limits set successfully"]])]))
        replies = try await Self.node(["broadcast", node, "time_limit", "--arguments", #"{"task_name": "nosuch", "soft": 1}"#])
        #expect(replies["replies"] == .array([.object([node: ["error": "unknown task"]])]))
        replies = try await Self.node(["broadcast", node, "time_limit", "--arguments", #"{"task_name": "demo.sleep", "soft": 1e12}"#])
        #expect(replies["replies"]?.arrayValue?.first?[node]?["error"] != nil)
        // The slow queue's child, replaced: the new one is told the limit when it starts.
        let victim = try #require(
            worker.childPIDs.first { pid in
                worker.lines(containing: "child started").contains { $0.contains("slow#1") && $0.contains("child.pid=\(pid)") }
            })
        kill(victim, SIGKILL)
        try await worker.waitForLog("child died; restarting", timeout: .seconds(10))
        try await QueuePauseTests.waitForConsumers(1, on: setup.queue("slow"))
        let error = await #expect(throws: TaskFailed.self) {
            try await publisher.call(TaskMessage(name: "demo.sleep", args: [10]), timeout: .seconds(60))
        }
        #expect(error?.type == "SoftTimeLimitExceeded")
        replies = try await Self.node(["broadcast", node, "time_limit", "--arguments", #"{"task_name": "demo.sleep"}"#])
        #expect(replies["replies"] == .array([.object([node: ["ok": "time limits set successfully"]])]))
        #expect(try await publisher.call(TaskMessage(name: "demo.sleep", args: [1.5]), timeout: .seconds(60)).doubleValue == 1.5)
        await publisher.close()
        #expect(await worker.stop() == 0)
    }

    @Test(
        "revoke(terminate=True) with Celery's default signal on a queue running 2 at a time: only that handler is cancelled, its neighbour finishes once, no child is killed"
    )
    func cooperativeTerminate() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup(slow: ["prefetch: 2", "concurrency: 2"])
        defer { setup.tearDown() }
        let worker = try await Self.start(setup)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let long = TaskMessage(name: "demo.sleep", args: [60])
        let neighbour = TaskMessage(name: "demo.sleep", args: [4])
        let longResult = Task { try await publisher.call(long, timeout: .seconds(60)) }
        async let neighbourResult = publisher.call(neighbour, timeout: .seconds(60))
        try await worker.waitForLog(long.id, "task started", timeout: .seconds(20))
        try await worker.waitForLog(neighbour.id, "task started", timeout: .seconds(20))
        let asked = ContinuousClock.now
        let replies = try await Self.node([
            "broadcast", setup.nodeName, "revoke", "--arguments", #"{"task_id": "\#(long.id)", "terminate": true}"#,
        ])
        #expect(replies["replies"] == .array([.object([setup.nodeName: ["ok": .string("terminate: \(long.id)")]])]))
        let error = await #expect(throws: TaskFailed.self) { try await longResult.value }
        #expect(error?.type == "TaskRevokedError")
        // Not the 60 s of the sleep (the Python helper's start-up is in this time too).
        #expect(ContinuousClock.now - asked < .seconds(20))
        #expect(try await neighbourResult.doubleValue == 4)
        #expect(worker.lines(containing: neighbour.id).filter { $0.contains("task started") }.count == 1)
        #expect(worker.log.contains { $0.contains("revoked task terminated") && $0.contains(long.id) })
        #expect(!worker.log.contains { $0.contains("killing the child") || $0.contains("child died") })
        await publisher.close()
        #expect(await worker.stop() == 0)
    }

    @Test("Celery's command line: `celery inspect ping` lists the node; `celery control cancel_consumer` pauses a queue")
    func commandLine() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await Self.start(setup)
        let node = setup.nodeName
        let ping = try await Self.node(["--timeout", "5", "cli", node, "inspect", "ping", "--json"])
        #expect(ping["status"] == 0, "\(ping["stderr"] ?? .null)")
        let pong = try JSONValue(parsing: Array((ping["stdout"]?.stringValue ?? "").utf8))
        #expect(pong == .object([node: ["ok": "pong"]]))
        let slow = setup.queue("slow")
        let cancel = try await Self.node(["--timeout", "5", "cli", node, "control", "cancel_consumer", slow])
        #expect(cancel["status"] == 0, "\(cancel["stderr"] ?? .null)")
        #expect(cancel["stdout"]?.stringValue?.contains("no longer consuming from \(slow)") == true)
        try await QueuePauseTests.waitForConsumers(0, on: slow)
        #expect(await worker.stop() == 0)
    }

    @Test("inspect ping, stats, registered and active_queues get the shapes Celery's client and Flower read")
    func inspect() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await Self.start(setup)
        let node = setup.nodeName

        #expect(try await Self.node(["inspect", node, "ping"])["reply"] == ["ok": "pong"])

        let stats = try #require(try await Self.node(["inspect", node, "stats"])["reply"])
        #expect(stats["pid"]?.intValue == Int(worker.pid))
        #expect(stats["total"]?.objectValue != nil && stats["uptime"]?.intValue != nil)
        // 2 + 1 + 1 + 1 children, one handler each.
        #expect(stats["pool"]?["max-concurrency"] == 5 && stats["pool"]?["processes"]?.arrayValue?.count == 5)
        #expect(stats["broker"]?["hostname"]?.stringValue != nil && stats["broker"]?["port"]?.intValue != nil)
        #expect(stats["broker"]?["userid"] == "guest" && stats["broker"]?["password"] == nil)
        #expect(!stats.jsonText.contains("guest:guest"))

        let registered = try #require(try await Self.node(["inspect", node, "registered"])["reply"]?.arrayValue)
        #expect(registered.contains("demo.add") && registered.contains("demo.noop"))

        let queues = try #require(try await Self.node(["inspect", node, "active_queues"])["reply"]?.arrayValue)
        #expect(Set(queues.compactMap { $0["name"]?.stringValue }) == Set(["latency", "slow", "bigmem", "default"].map(setup.queue)))
        #expect(queues.allSatisfy { $0["exchange"]?["name"]?.stringValue == setup.exchange })

        // Another node's request is not answered by this one.
        #expect(try await Self.node(["inspect", "warren@nobody-\(setup.prefix)", "ping"])["reply"] == .null)
        #expect(await worker.stop() == 0)
    }

    @Test("an unknown method and a refused one get Celery's error reply and a log line; the node answers on")
    func errors() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await Self.start(setup)
        let node = setup.nodeName
        let unknown = try await Self.node(["broadcast", node, "no_such_method"])
        #expect(unknown["replies"] == [[.init(stringLiteral: node): ["error": "No such control command: no_such_method"]]])
        let refused = try await Self.node(["broadcast", node, "shutdown"])
        #expect(refused["replies"]?.arrayValue?.first?[node]?["error"]?.stringValue?.contains("not allowed") == true)
        try await worker.waitForLog("control request refused", "method=shutdown", timeout: .seconds(5))
        // Still running, still answering.
        #expect(try await Self.node(["inspect", node, "ping"])["reply"] == ["ok": "pong"])
        #expect(await worker.stop() == 0)
    }

    @Test("revoke, then the task arrives: acked without running, the caller's get() raises TaskRevokedError")
    func revoke() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await Self.start(setup)
        let id = "revoked-\(UUID().uuidString)"
        #expect(try await Self.node(["revoke", id])["sent"] == true)
        try await worker.waitForLog("tasks revoked", id, timeout: .seconds(10))
        let outcome = try await Self.node(["call-revoked", setup.exchange, "demo.add", id])
        #expect(outcome["exc_type"] == "TaskRevokedError")
        #expect(outcome["state"] == "REVOKED")
        try await worker.waitForLog("revoked task discarded without running", id, timeout: .seconds(5))
        #expect(worker.lines(containing: id).allSatisfy { !$0.contains("task succeeded") })
        // The node lists it; other tasks run as before.
        #expect(try await Self.node(["inspect", setup.nodeName, "revoked"])["reply"]?.arrayValue?.contains(.string(id)) == true)
        let other = try await Self.node(["call-revoked", setup.exchange, "demo.noop", "not-\(id)"])
        #expect(other["result"] == .null && other["exc_type"] == nil)
        #expect(await worker.stop() == 0)
    }

    @Test("revoke(terminate=True) of a running 60 s demo.sleep: REVOKED within 5 s, the child replaced, the queue works after")
    func terminate() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await Self.start(setup)
        let outcome = try await Self.node(["terminate", setup.nodeName, setup.exchange])
        let reply = try #require(outcome["reply"]?.arrayValue?.first?[setup.nodeName]?["ok"]?.stringValue)
        #expect(reply.hasPrefix("terminate: ") && reply != "terminate: tasks unknown")
        #expect(outcome["exc_type"] == "TaskRevokedError" && outcome["state"] == "REVOKED")
        // `active` named the task and when it started (seconds since 1970, before Celery saw it).
        let active = try #require(outcome["active"])
        #expect(active["name"] == "demo.sleep" && active["worker_pid"]?.intValue != nil)
        let since = try #require(active["time_start"]?.doubleValue)
        #expect(since <= (outcome["now"]?.doubleValue ?? 0) && since > (outcome["now"]?.doubleValue ?? 0) - 30)
        #expect((outcome["seconds"]?.doubleValue ?? 99) < 5)
        try await worker.waitForLog("child killed for a revoke; starting its replacement", timeout: .seconds(5))
        try await worker.waitForLog("revoked task discarded without running", timeout: .seconds(10))
        // The slow queue runs tasks again.
        let after = try await CeleryInteropTests.celery([
            "--exchange", setup.exchange, "call", "demo.sleep", "--kwargs", #"{"seconds": 0}"#,
        ])
        #expect(after["ok"] == true)
        #expect(await worker.stop() == 0)
    }

    @Test("a Celery event receiver sees the node's worker-heartbeat within 5 s")
    func heartbeat() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await Self.start(setup)
        let event = try #require(try await Self.node(["heartbeat", setup.nodeName, "5"])["event"])
        #expect(event["type"] == "worker-heartbeat" && event["hostname"] == .string(setup.nodeName))
        #expect(event["pid"]?.intValue == Int(worker.pid) && event["freq"] == 2.0 && event["sw_ident"] == "warren")
        #expect(event["loadavg"]?.arrayValue?.count == 3 && event["processed"]?.intValue != nil)
        #expect(await worker.stop() == 0)
    }

    @Test("after enable_events, a Celery receiver sees task-received, task-started and task-succeeded from the child")
    func taskEvents() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await Self.start(setup)
        let outcome = try await Self.node(["task-events", setup.nodeName, setup.exchange, "10"])
        #expect(outcome["enabled"] == [[.init(stringLiteral: setup.nodeName): ["ok": "task events enabled"]]])
        let events = try #require(outcome["events"]?.arrayValue)
        #expect(events.compactMap { $0["type"]?.stringValue } == ["task-received", "task-started", "task-succeeded"])
        let received = try #require(events.first)
        #expect(received["name"] == "demo.add" && received["args"] == "[2, 3]" && received["hostname"] == .string(setup.nodeName))
        let child = try #require(received["pid"]?.intValue)
        #expect(child != Int(worker.pid) && events.allSatisfy { $0["pid"]?.intValue == child })
        let succeeded = try #require(events.last)
        #expect(succeeded["result"] == "5" && (succeeded["runtime"]?.doubleValue ?? -1) >= 0)
        #expect(await worker.stop() == 0)
    }

    @Test("Flower 2.2 lists the node online with its stats, shows a task's state, args, result and runtime, opens the worker page")
    func flower() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await Self.start(setup)
        let port = try FreePort.take()
        let outcome = try await Self.node(["flower", setup.nodeName, setup.exchange, "\(port)", "20"])
        #expect(outcome["online"] == true)
        let node = try #require(outcome["workers"]?[setup.nodeName])
        #expect(node["stats"]?["pid"]?.intValue == Int(worker.pid))
        #expect(node["registered"]?.arrayValue?.contains("demo.add") == true)
        #expect(node["active_queues"]?.arrayValue?.count == 4)
        let task = try #require(outcome["task"])
        #expect(task["state"] == "SUCCESS" && task["name"] == "demo.add" && task["worker"] == .string(setup.nodeName))
        #expect(task["args"] == "[2, 3]" && task["result"] == "5" && task["runtime"]?.doubleValue != nil)
        #expect(outcome["worker_page"] == 200)
        #expect(await worker.stop() == 0)
    }

    @Test("200 malformed control messages: error replies where a reply was asked for, no crash, the node and the tasks go on")
    func flood() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await Self.start(setup)
        let outcome = try await Self.node(["flood", setup.nodeName, "200"])
        // The malformed requests that asked for a reply got error replies, and the node still answers.
        #expect(outcome["error_replies"] == 100 && outcome["replies"] == 100, "\(outcome)")
        #expect(outcome["ping"] == ["ok": "pong"])
        let task = try await CeleryInteropTests.celery(["--exchange", setup.exchange, "call", "demo.add", "--args", "[2, 3]"])
        #expect(task["result"] == 5)
        #expect(await worker.stop() == 0)
    }

    @Test("two supervisors with one node name: the clash is reported, the first keeps answering")
    func clash() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let first = try await Self.start(setup)
        let second = try await DemoWorker(config: setup.path)
        try await second.waitForLog("another process uses this node name", timeout: .seconds(20))
        #expect(try await Self.node(["inspect", setup.nodeName, "ping"])["reply"] == ["ok": "pong"])
        #expect(await second.stop() == 0)
        #expect(await first.stop() == 0)
    }
}
