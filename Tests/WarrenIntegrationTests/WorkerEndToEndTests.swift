import AMQP
import Foundation
import Testing
import Warren

/// The real `warren-demo` worker against a real broker: what users and other programs rely on.
@Suite("Worker end to end", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct WorkerEndToEndTests {
    @Test("`publish demo.add --args [2,3] --wait` prints 5")
    func publishWait() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let result = try await DemoBinary.run(["publish", "demo.add", "--args", "[2, 3]", "--wait", "--config", setup.path])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out == "5\n")
        #expect(await worker.stop() == 0)
    }

    @Test("a plain AMQP publish (routing key = task name, JSON object body, no headers) runs; reply_to gets the result")
    func plainAMQPPublish() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let broker = try await BrokerIO.open()
        let replyTo = try await broker.replyQueue()
        try await broker.publish(
            Array(#"{"greeting": "hé", "n": 7}"#.utf8), exchange: setup.exchange, routingKey: "demo.echo",
            properties: .init(correlationID: "plain-1", replyTo: replyTo))
        let reply = try await broker.nextDelivery()
        let decoded = try TaskReply.decode(properties: reply.properties, body: reply.body)
        #expect(reply.properties.correlationID == "plain-1")
        #expect(decoded.state == .success)
        #expect(decoded.result == ["greeting": "hé", "n": 7])
        await broker.close()
        #expect(await worker.stop() == 0)
    }

    @Test("an unknown task name is kept in the unrouted queue")
    func unknownTaskIsUnrouted() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let task = TaskMessage(name: "demo.no-such-task", args: [1])
        try await publisher.publish(task)
        let broker = try await BrokerIO.open()
        try await broker.consume(setup.unroutedQueue)
        let kept = try await broker.nextDelivery()
        #expect(kept.routingKey == "demo.no-such-task")
        #expect(kept.properties.headers?["id"]?.stringValue == task.id)
        await broker.close()
        await publisher.close()
        #expect(await worker.stop() == 0)
    }

    @Test("a malformed body is dead-lettered with its reason, and the next message still runs")
    func malformedIsDeadLettered() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let broker = try await BrokerIO.open()
        try await broker.publish(Array("{not json".utf8), exchange: setup.exchange, routingKey: "demo.echo")
        try await broker.consume(setup.deadLetterQueue)
        let dead = try await broker.nextDelivery()
        let headers = try #require(dead.properties.headers)
        #expect(headers["x-warren-reason"]?.stringValue == "malformed")
        #expect(headers["x-warren-task"]?.stringValue == "demo.echo")
        #expect(headers["x-warren-queue"]?.stringValue == setup.queue("latency"))
        #expect(headers["x-warren-error"]?.stringValue?.isEmpty == false)
        #expect(dead.body == Array("{not json".utf8))  // unchanged

        let publisher = try await WarrenClient(configuration: try setup.configuration())
        #expect(try await publisher.call(TaskMessage(name: "demo.add", args: [2, 3])) == 5)
        await publisher.close()
        await broker.close()
        #expect(await worker.stop() == 0)
    }

    @Test("a failing task raises for its caller and is dead-lettered with reason failed")
    func failingTask() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let error = await #expect(throws: TaskFailed.self) {
            try await publisher.call(TaskMessage(name: "demo.fail", kwargs: ["message": "boom"]))
        }
        #expect(error?.type == "RuntimeError" && error?.message == "boom")
        let broker = try await BrokerIO.open()
        try await broker.consume(setup.deadLetterQueue)
        let dead = try await broker.nextDelivery()
        #expect(dead.properties.headers?["x-warren-reason"]?.stringValue == "failed")
        #expect(dead.properties.headers?["x-warren-error"]?.stringValue == "boom")
        #expect(dead.properties.headers?["x-warren-attempts"]?.intValue == 1)
        await broker.close()
        await publisher.close()
        #expect(await worker.stop() == 0)
    }

    @Test("a retryable failure is retried with backoff and succeeds on attempt 3")
    func retries() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let task = TaskMessage(name: "demo.flaky", args: [2])
        #expect(try await publisher.call(task, timeout: .seconds(30)) == 3)
        try await worker.waitForLog(task.id, "task succeeded", timeout: .seconds(10))  // the reply can overtake the log
        #expect(worker.lines(containing: task.id).filter { $0.contains("will retry") }.count == 2)
        await publisher.close()
        #expect(await worker.stop() == 0)
    }

    @Test("a task with an eta 2 s ahead is not run early")
    func etaIsHonoured() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let task = TaskMessage(name: "demo.add", args: [1, 1], countdown: .seconds(2))
        let eta = try #require(task.eta)
        #expect(try await publisher.call(task, timeout: .seconds(30)) == 2)
        #expect(Date() >= eta)
        try await worker.waitForLog(task.id, "task succeeded", timeout: .seconds(10))  // the reply can overtake the log
        // It waited in the broker, not in a worker: it was delivered again once the eta came.
        #expect(worker.lines(containing: task.id).filter { $0.contains("task started") }.count == 1)
        await publisher.close()
        #expect(await worker.stop() == 0)
    }

    @Test("an expired task is dead-lettered as expired, not run")
    func expiredIsDeadLettered() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let broker = try await BrokerIO.open()
        // As Celery sends it, less the AMQP expiration (so the worker, not the broker, decides).
        let headers: AMQPTable = ["task": "demo.add", "id": "expired-1", "expires": "2020-01-01T00:00:00+00:00", "retries": 0]
        try await broker.publish(
            Array("[[1, 2], {}, {}]".utf8), exchange: setup.exchange, routingKey: "demo.add",
            properties: .init(contentType: "application/json", contentEncoding: "utf-8", headers: headers))
        try await broker.consume(setup.deadLetterQueue)
        let dead = try await broker.nextDelivery()
        #expect(dead.properties.headers?["x-warren-reason"]?.stringValue == "expired")
        #expect(dead.properties.headers?["id"]?.stringValue == "expired-1")
        #expect(worker.lines(containing: "expired-1").allSatisfy { !$0.contains("task started") })
        await broker.close()
        #expect(await worker.stop() == 0)
    }

    @Test("SIGTERM during a task: the task completes and is acked, exit status 0")
    func warmShutdown() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let task = TaskMessage(name: "demo.sleep", args: [2])
        async let result = publisher.call(task, timeout: .seconds(30))
        try await worker.waitForLog(task.id, "task started", timeout: .seconds(10))
        #expect(await worker.stop() == 0)
        #expect(try await result.doubleValue == 2)
        let broker = try await BrokerIO.open()
        #expect(try await broker.depth(setup.queue("slow")) == 0)  // acked, not given back
        await broker.close()
        await publisher.close()
    }
}

@Suite("Long tasks", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct LongTaskTests {
    @Test("a task that runs for 10 heartbeat intervals is executed exactly once")
    func longTaskRunsOnce() async throws {
        let setup = try TestSetup(heartbeat: "1s")
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let task = TaskMessage(name: "demo.sleep", args: [10])
        #expect(try await publisher.call(task, timeout: .seconds(40)).doubleValue == 10)
        try await worker.waitForLog(task.id, "task succeeded", timeout: .seconds(10))  // the reply can overtake the log
        let lines = worker.lines(containing: task.id)
        #expect(lines.filter { $0.contains("task started") }.count == 1)
        #expect(lines.allSatisfy { !$0.contains("redelivered=true") })
        let broker = try await BrokerIO.open()
        #expect(try await broker.depth(setup.queue("slow")) == 0)
        await broker.close()
        await publisher.close()
        #expect(await worker.stop() == 0)
        #expect(!worker.log.contains { $0.contains("child failed") })
    }
}

@Suite("Topology", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct TopologyTests {
    @Test("declaring twice is harmless; a changed route rebinds and the stale binding is removed")
    func rebinding() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        var config = try setup.configuration()
        let broker = try await BrokerIO.open()
        try await broker.declare(config, tasks: ["demo.add", "demo.sleep"])
        try await broker.declare(config, tasks: ["demo.add", "demo.sleep"])

        try await broker.publish([1], exchange: setup.exchange, routingKey: "demo.add")
        #expect(try await broker.depth(setup.queue("latency")) == 1)

        // demo.add moves from latency to default: latency's route no longer names it.
        let latency = try #require(config.queues.firstIndex { $0.name == setup.queue("latency") })
        config.queues[latency].routes = config.queues[latency].routes.filter { $0.description != "demo.add" }
        try await broker.declare(config, tasks: ["demo.add", "demo.sleep"])
        try await broker.publish([2], exchange: setup.exchange, routingKey: "demo.add")
        #expect(try await broker.depth(setup.queue("latency")) == 1)  // still only the first
        #expect(try await broker.depth(setup.queue("default")) == 1)
        await broker.close()
    }
}

@Suite("Throughput correctness", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct ThroughputCorrectnessTests {
    @Test("3,000 tasks through one child running 4 at a time: every ack accepted, no channel error, each task run once or still queued")
    func manyTasksConcurrently() async throws {
        let setup = try TestSetup(latency: ["children: 1", "prefetch: 50", "concurrency: 4"])
        defer { setup.tearDown() }
        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let broker = try await BrokerIO.open()
        try await broker.declare(try setup.configuration(), tasks: ["demo.noop"])
        var ids: Set<String> = []
        for _ in 0..<3000 {
            let task = TaskMessage(name: "demo.noop")
            ids.insert(task.id)
            try await publisher.publish(task)
        }
        let worker = try await DemoWorker(config: setup.path)
        // The last task's reply says the child got that far; with 4 handlers at once a few earlier
        // tasks may still wait for a slot (their tasks do not take slots in delivery order), and
        // the warm shutdown gives those back to the queue unrun.
        #expect(try await publisher.call(TaskMessage(name: "demo.noop"), timeout: .seconds(60)) == .null)
        #expect(await worker.stop() == 0)
        #expect(!worker.log.contains { $0.contains("child failed") || $0.contains("unknown delivery tag") })
        // Nothing lost, nothing run twice: every task either succeeded once or is back in the queue.
        var runs: [String: Int] = [:]
        for line in worker.lines(containing: "task succeeded") {
            // Ids are UUIDs (36 characters) in the line's task.id metadata.
            guard let at = line.range(of: "task.id=") else { continue }
            let id = String(line[at.upperBound...].prefix(36))
            if ids.contains(id) { runs[id, default: 0] += 1 }
        }
        let left = try await broker.depth(setup.queue("latency"))
        let reconnected = worker.log.contains { $0.contains("lost its broker connection") }
        #expect(runs.values.allSatisfy { $0 == 1 } || reconnected, "tasks run twice without a lost connection")
        #expect(runs.count + Int(left) == 3000, "\(runs.count) of 3,000 ran and \(left) are queued")
        #expect(left <= 4 || reconnected, "\(left) tasks left in the queue without a lost connection")
        await broker.close()
        await publisher.close()
    }
}
