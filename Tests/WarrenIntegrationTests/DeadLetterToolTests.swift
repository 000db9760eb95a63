import AMQP
import Foundation
import Testing
import Warren

/// `dlq list / replay / purge` of the real `warren-demo` binary, and the reader under them,
/// against a real broker.
@Suite("Dead-letter tool", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct DeadLetterToolTests {
    @Test("a failed task: list shows it and leaves it; replay runs it again through its route; purge drops it")
    func failedTaskRoundTrip() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let broker = try await BrokerIO.open()
        defer { Task { await broker.close() } }

        let published = try await DemoBinary.run(["publish", "demo.fail", "--kwargs", #"{"message":"boom"}"#, "--config", setup.path])
        #expect(published.status == 0, "\(published.err)")
        let id = published.out.trimmingCharacters(in: .whitespacesAndNewlines)
        try await waitForDepth(broker, setup.deadLetterQueue, 1)

        // list --json: the fields, and the message is still there afterwards.
        let first = try await listJSON(setup)
        try #require(first.count == 1)
        #expect(first[0]["reason"] == "failed")
        #expect(first[0]["error"] == "boom")
        #expect(first[0]["error_type"] == "RuntimeError")
        #expect(first[0]["task"] == "demo.fail")
        #expect(first[0]["task_id"] == .string(id))
        #expect(first[0]["attempts"] == 1)
        #expect(first[0]["queue"] == .string(setup.queue("default")))
        #expect(first[0]["exchange"] == .string(setup.exchange))
        #expect(first[0]["headers"]?.objectValue?["x-warren-reason"] == "failed")
        #expect(first[0]["body_encoding"] == "utf-8")
        #expect(try await broker.depth(setup.deadLetterQueue) == 1)

        let table = try await DemoBinary.run(["dlq", "list", "--config", setup.path])
        #expect(table.status == 0, "\(table.err)")
        #expect(table.out.contains("AGE") && table.out.contains("demo.fail") && table.out.contains("boom") && table.out.contains(id))
        #expect(table.out.contains("1 message in \(setup.deadLetterQueue)"))
        #expect(try await broker.depth(setup.deadLetterQueue) == 1)

        // No filter, no --all: refused, nothing touched.
        for verb in ["replay", "purge"] {
            let refused = try await DemoBinary.run(["dlq", verb, "--config", setup.path])
            #expect(refused.status != 0)
            #expect(refused.err.contains("refusing to \(verb) every message without a filter"))
        }
        #expect(try await broker.depth(setup.deadLetterQueue) == 1)

        // A filter that matches nothing leaves it.
        let none = try await DemoBinary.run(["dlq", "replay", "--task", "demo.add", "--config", setup.path])
        #expect(none.status == 0, "\(none.err)")
        #expect(none.out.contains("replayed 0 of 1 message"))
        #expect(try await broker.depth(setup.deadLetterQueue) == 1)

        // Replay: back through the exchange to its queue; the worker runs it (and it fails again).
        let replayed = try await DemoBinary.run(["dlq", "replay", "--task", "demo.fail", "--config", setup.path])
        #expect(replayed.status == 0, "\(replayed.err)")
        #expect(replayed.out.contains("replayed 1 of 1 message in \(setup.deadLetterQueue) matching --task demo.fail"))
        #expect(replayed.out.contains("demo.fail -> \(setup.exchange) (queue \(setup.queue("default"))): 1"))
        try await worker.waitForLog(id, "task started", timeout: .seconds(10))
        try await waitUntil { worker.lines(containing: id).filter { $0.contains("task started") }.count == 2 }
        let runs = worker.lines(containing: id).filter { $0.contains("task started") }
        #expect(runs.allSatisfy { $0.contains("queue=\(setup.queue("default"))") && $0.contains("task.attempt=1") })
        try await waitUntil { worker.lines(containing: id).filter { $0.contains("dead-lettered") }.count == 2 }
        try await waitForDepth(broker, setup.deadLetterQueue, 1)
        let second = try await listJSON(setup)
        try #require(second.count == 1)
        #expect(second[0]["task_id"] == .string(id))
        #expect(second[0]["attempts"] == 1)
        // The replay removed the old x-warren-* headers: the worker recorded a new first failure.
        let before = try #require(first[0]["first_failure"]?.stringValue)
        let after = try #require(second[0]["first_failure"]?.stringValue)
        #expect(after > before)

        // Purge: an age filter that does not match keeps it; the reason drops it.
        let young = try await DemoBinary.run(["dlq", "purge", "--reason", "failed", "--older-than", "1h", "--config", setup.path])
        #expect(young.status == 0, "\(young.err)")
        #expect(young.out.contains("purged 0 of 1 message"))
        #expect(try await broker.depth(setup.deadLetterQueue) == 1)
        let purged = try await DemoBinary.run(["dlq", "purge", "--reason", "failed", "--config", setup.path])
        #expect(purged.status == 0, "\(purged.err)")
        #expect(purged.out.contains("purged 1 of 1 message in \(setup.deadLetterQueue) matching --reason failed"))
        #expect(try await broker.depth(setup.deadLetterQueue) == 0)
        let empty = try await DemoBinary.run(["dlq", "list", "--config", setup.path])
        #expect(empty.out == "\(setup.deadLetterQueue) is empty\n")
        #expect(await worker.stop() == 0)
    }

    @Test("unrouted: list shows it; replay skips a task no binding knows, and runs one that is bound by now")
    func unroutedReplay() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let config = try setup.configuration()
        let broker = try await BrokerIO.open()
        defer { Task { await broker.close() } }
        // The topology of a binary that knows only demo.noop: demo.add is not bound yet.
        try await broker.declare(config, tasks: ["demo.noop"])
        let replyTo = try await broker.replyQueue()
        var add = TaskMessage(name: "demo.add", args: [2, 3])
        add.replyTo = replyTo
        add.ignoreResult = false
        let message = add.encoded()
        try await broker.publish(message.body, exchange: setup.exchange, routingKey: "demo.add", properties: message.properties)
        let nope = try await DemoBinary.run(["publish", "demo.nope", "--config", setup.path])
        #expect(nope.status == 0, "\(nope.err)")
        let nopeID = nope.out.trimmingCharacters(in: .whitespacesAndNewlines)
        try await waitForDepth(broker, setup.unroutedQueue, 2)

        let listed = try await DemoBinary.run(["dlq", "list", "--queue", "unrouted", "--config", setup.path])
        #expect(listed.status == 0, "\(listed.err)")
        let rows = listed.out.split(separator: "\n").map(String.init)
        #expect(rows.contains { $0.contains("demo.add") && $0.contains("unrouted") && $0.contains(add.id) })
        #expect(rows.contains { $0.contains("demo.nope") && $0.contains("unrouted") && $0.contains(nopeID) })
        let json = try await listJSON(setup, "--queue", "unrouted", "--task", "demo.nope")
        #expect(json.count == 1 && json.first?["reason"] == "unrouted" && json.first?["routing_key"] == "demo.nope")

        // Nothing is bound yet but demo.noop: both are skipped and stay.
        let early = try await DemoBinary.run(["dlq", "replay", "--queue", "unrouted", "--all", "--config", setup.path])
        #expect(early.status == 0, "\(early.err)")
        #expect(early.out.contains("replayed 0 of 2 messages"))
        #expect(early.out.contains("task demo.add has no binding"))
        #expect(try await broker.depth(setup.unroutedQueue) == 2)

        // The worker binds demo.add; the replay now sends it to its queue and its result comes back.
        let worker = try await DemoWorker(config: setup.path)
        let dry = try await DemoBinary.run(["dlq", "replay", "--queue", "unrouted", "--all", "--dry-run", "--config", setup.path])
        #expect(dry.out.contains("would replay 1 of 2 messages"), "\(dry.out)")
        #expect(try await broker.depth(setup.unroutedQueue) == 2)
        let replayed = try await DemoBinary.run(["dlq", "replay", "--queue", "unrouted", "--all", "--config", setup.path])
        #expect(replayed.status == 0, "\(replayed.err)")
        #expect(replayed.out.contains("replayed 1 of 2 messages in \(setup.unroutedQueue)"), "\(replayed.out)")
        #expect(replayed.out.contains("demo.add -> \(setup.exchange) (queue \(setup.queue("latency"))): 1"))
        #expect(replayed.out.contains("task demo.nope has no binding on exchange '\(setup.exchange)'"))
        let reply = try await broker.nextDelivery()
        let result = try TaskReply.decode(properties: reply.properties, body: reply.body)
        #expect(reply.properties.correlationID == add.id)
        #expect(result.state == .success && result.result == 5)
        #expect(try await broker.depth(setup.unroutedQueue) == 1)
        let left = try await listJSON(setup, "--queue", "unrouted")
        #expect(left.map { $0["task"] } == ["demo.nope"])
        #expect(await worker.stop() == 0)
    }

    @Test("a message RabbitMQ dead-lettered (TTL): reason expired from x-death, with its queue")
    func brokerDeadLettered() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let config = try setup.configuration()
        let broker = try await BrokerIO.open()
        defer { Task { await broker.close() } }
        try await broker.declare(config, tasks: ["demo.add"])
        let ttlQueue = setup.queue("ttl")
        let dlq = setup.deadLetterQueue
        try await broker.io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel()
            defer { try? channel.close() }
            try channel.declareQueue(
                ttlQueue, durable: false, autoDelete: false,
                arguments: ["x-message-ttl": .int32(1), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": .string(dlq)])
        }
        defer {
            Task { _ = try? await broker.io.perform { connection throws(AMQPError) in try connection.openChannel().deleteQueue(ttlQueue) } }
        }
        let task = TaskMessage(name: "demo.add", args: [1, 2])
        let message = task.encoded()
        try await broker.publish(message.body, exchange: "", routingKey: ttlQueue, properties: message.properties)
        try await waitForDepth(broker, dlq, 1)
        let listed = try await listJSON(setup)
        try #require(listed.count == 1)
        #expect(listed[0]["reason"] == "expired")
        #expect(listed[0]["broker_reason"] == "expired")
        #expect(listed[0]["queue"] == .string(ttlQueue))
        #expect(listed[0]["task"] == "demo.add")
        #expect(listed[0]["task_id"] == .string(task.id))
        #expect(listed[0]["dead_lettered_at"]?.stringValue != nil)
        #expect(listed[0]["headers"]?.objectValue?["x-death"]?.arrayValue?.count == 1)
        let purged = try await DemoBinary.run(["dlq", "purge", "--all", "--config", setup.path])
        #expect(purged.out == "purged 1 message from \(dlq)\n", "\(purged.err)")
        #expect(try await broker.depth(dlq) == 0)

        let missing = try await DemoBinary.run(["dlq", "list", "--queue", setup.queue("missing"), "--config", setup.path])
        #expect(missing.status == 1)
        #expect(missing.err.contains("the queue '\(setup.queue("missing"))' does not exist"))
    }

    @Test("the reader: reads only what was ready, drops what it is told, and gives the rest back in their order")
    func readerKeepsOrder() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let broker = try await BrokerIO.open()
        defer { Task { await broker.close() } }
        let queue = setup.queue("order")
        try await broker.io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel()
            defer { try? channel.close() }
            try channel.declareQueue(queue, durable: false)
        }
        defer {
            Task { _ = try? await broker.io.perform { connection throws(AMQPError) in try connection.openChannel().deleteQueue(queue) } }
        }
        let count = 250  // more than two batches
        for i in 0..<count { try await broker.publish(Array("m\(i)".utf8), exchange: "", routingKey: queue) }
        try await waitForDepth(broker, queue, UInt32(count))

        // A pass that drops every 7th message, while a new message arrives after the first read.
        let io = try await AMQPConnectionThread(AMQPConnection.Configuration(url: IntegrationBroker.url), name: "amqp-dlq-test")
        let reader = DeadLetterQueueReader(io: io, queue: queue)
        var seen: [String] = []
        let report = try await reader.process { letter in
            let body = String(decoding: letter.delivery.body, as: UTF8.self)
            if seen.isEmpty {
                io.submit { connection throws(AMQPError) in
                    try connection.openChannel(9).publish(Array("late".utf8), routingKey: queue)
                }
            }
            seen.append(body)
            return Int(body.dropFirst())! % 7 == 0 ? .drop : .keep
        }
        #expect(report.depth == count)
        #expect(report.examined == count)
        #expect(report.dropped == 36)
        #expect(report.kept == count - 36)
        #expect(seen == (0..<count).map { "m\($0)" })  // read once each, in order; "late" not read

        // A pass with a limit reads only the head. (RabbitMQ applies requeues asynchronously:
        // wait until the count shows them all.)
        try await waitForDepth(broker, queue, UInt32(count - 36 + 1))
        var head: [String] = []
        let limited = try await reader.process(limit: 10) { letter in
            head.append(String(decoding: letter.delivery.body, as: UTF8.self))
            return .keep
        }
        #expect(limited.examined == 10 && limited.depth == count - 36 + 1)
        #expect(head == (0..<count).filter { $0 % 7 != 0 }.prefix(10).map { "m\($0)" })
        // Stopping early (nil) leaves that message and the rest.
        try await waitForDepth(broker, queue, UInt32(count - 36 + 1))
        let stopped = try await reader.process { letter in
            String(decoding: letter.delivery.body, as: UTF8.self) == "m3" ? nil : .keep
        }
        #expect(stopped.examined == 2)
        await io.close()

        // What is left: the kept ones in their original order, then the one that arrived meanwhile.
        try await waitForDepth(broker, queue, UInt32(count - 36 + 1))
        let left = try await broker.io.perform { connection throws(AMQPError) in
            let channel = try connection.openChannel()
            defer { try? channel.close() }
            var bodies: [String] = []
            while let d = try channel.get(queue: queue, noAck: true) { bodies.append(String(decoding: d.body, as: UTF8.self)) }
            return bodies
        }
        #expect(left == (0..<count).filter { $0 % 7 != 0 }.map { "m\($0)" } + ["late"])
    }

    // MARK: - Helpers

    private func listJSON(_ setup: TestSetup, _ extra: String...) async throws -> [JSONObject] {
        let result = try await DemoBinary.run(["dlq", "list", "--json", "--config", setup.path] + extra)
        guard result.status == 0 else { throw WorkerTestError("dlq list failed (\(result.status)): \(result.err)") }
        return try result.out.split(separator: "\n").map { line in
            guard case .object(let object) = try JSONValue(parsing: String(line)) else { throw WorkerTestError("not an object: \(line)") }
            return object
        }
    }

    private func waitForDepth(_ broker: BrokerIO, _ queue: String, _ depth: UInt32, timeout: Duration = .seconds(20)) async throws {
        var last: UInt32 = 0
        try await waitUntil(timeout: timeout, "\(queue) to hold \(depth) (holds \(last))") {
            last = (try? await broker.depth(queue)) ?? 0
            return last == depth
        }
    }

    private func waitUntil(
        timeout: Duration = .seconds(20), _ what: @autoclosure () -> String = "a condition", _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw WorkerTestError("timed out after \(timeout) waiting for \(what())")
    }
}
