import AMQP
import Foundation
import Testing
import Warren

/// Single hostile messages that used to loop a queue or crash a child (issue 12, "High"): each
/// must run a bounded number of times and end as exactly one dead letter with a reason, while
/// ordinary tasks on the same queue keep completing, each once.
@Suite("Hostile messages", .serialized, .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct HostileMessageTests {
    /// Ordinary `demo.add` tasks published before and after the hostile message.
    static let ordinary = 20

    enum Kind: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// Headers padded to ~130.9 KB on a task that ends dead-lettered (`demo.add` with 3 args):
        /// the dead letter's headers no longer fit a 131,072-byte frame.
        case paddedHeaders = "padded headers"
        /// `demo.fail` with a 200,000-character message: the error text in `x-warren-error`.
        case hugeError = "200,000-character error"
        /// An `id` of 300 bytes, `reply_to` and no `correlation_id`: the reply's correlation_id
        /// would be a shortstr over 255 bytes.
        case longID = "300-byte id with reply_to"
        /// `retries: 9223372036854775807`: `retries + 1` overflowed and crashed the child.
        case hugeRetries = "retries Int64.max"
        /// A task that fails and would be retried (`demo.flaky`), its headers padded so that the
        /// retry's headers no longer fit: it can never be retried.
        case paddedRetry = "padded headers on a retry"
        /// A task with an `eta` an hour ahead, its headers padded so that it cannot be sent to wait.
        case paddedWait = "padded headers on an eta"

        var testDescription: String { rawValue }

        var expectedReason: String {
            switch self {
            case .paddedHeaders, .longID, .hugeRetries, .paddedRetry, .paddedWait: "malformed"
            case .hugeError: "failed"
            }
        }
    }

    /// The hostile message (straight to `queue`), and the text that marks its log lines.
    static func hostile(_ kind: Kind, queue: String, replyTo: String) -> (properties: AMQPBasicProperties, body: [UInt8], marker: String) {
        let marker = "hostile-\(UUID().uuidString.lowercased())"
        var properties = AMQPBasicProperties(contentType: "application/json", contentEncoding: "utf-8", deliveryMode: .persistent)
        var headers: AMQPTable = ["lang": "py", "task": "demo.add", "id": .string(marker), "retries": .int32(0)]
        var body = Array("[[2, 3], {}, {}]".utf8)
        switch kind {
        case .paddedHeaders:
            body = Array("[[1, 2, 3], {}, {}]".utf8)
            // As large as the publisher's own frame allows: nothing is left for Warren's headers.
            headers["pad"] = .string(String(repeating: "p", count: 130_900))
        case .hugeError:
            headers["task"] = "demo.fail"
            body = Array(#"[["\#(String(repeating: "e", count: 200_000))"], {}, {}]"#.utf8)
        case .longID:
            headers["id"] = .string(marker + String(repeating: "i", count: 300 - marker.utf8.count))
            properties.replyTo = replyTo
        case .hugeRetries:
            headers["retries"] = .int64(Int64.max)
        case .paddedRetry:
            headers["task"] = "demo.flaky"
            body = Array("[[5], {}, {}]".utf8)
            headers["pad"] = .string(String(repeating: "p", count: 130_900))
        case .paddedWait:
            let eta = Date().addingTimeInterval(3600).formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
            headers["eta"] = .string(eta)
            headers["pad"] = .string(String(repeating: "p", count: 130_850))
        }
        properties.headers = headers
        return (properties, body, marker)
    }

    @Test(
        "one hostile message: a bounded number of runs, then one dead letter with a reason; ordinary tasks each run once",
        arguments: Kind.allCases)
    func hostileMessage(_ kind: Kind) async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let children = Set(worker.childPIDs)
        let broker = try await BrokerIO.open()
        let replies = try await broker.replyQueue()  // channel 2
        try await broker.consume(setup.deadLetterQueue)  // channel 3
        let queue = setup.queue("latency")

        func ordinary(_ i: Int) async throws -> String {
            let id = UUID().uuidString.lowercased()
            let properties = AMQPBasicProperties(
                contentType: "application/json", contentEncoding: "utf-8",
                headers: ["lang": "py", "task": "demo.add", "id": .string(id), "retries": .int32(0)], deliveryMode: .persistent,
                correlationID: id, replyTo: replies)
            try await broker.publish(Array("[[\(i), 1], {}, {}]".utf8), exchange: "", routingKey: queue, properties: properties)
            return id
        }
        var ids: [String] = []
        for i in 0..<Self.ordinary { ids.append(try await ordinary(i)) }
        let hostile = Self.hostile(kind, queue: queue, replyTo: replies)
        try await broker.publish(hostile.body, exchange: "", routingKey: queue, properties: hostile.properties)
        for i in Self.ordinary..<2 * Self.ordinary { ids.append(try await ordinary(i)) }

        // Every ordinary task replies, and the hostile message comes out as one dead letter.
        var answered: [String: Int] = [:]
        var dead: [AMQPDelivery] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while answered.count < ids.count || dead.isEmpty {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            guard let delivery = try? await broker.nextDelivery(timeout: left) else { break }
            if delivery.channel == 3 {
                dead.append(delivery)
            } else if let id = delivery.properties.correlationID {
                answered[id, default: 0] += 1
            }
        }
        let seen = worker.lines(containing: hostile.marker).filter { $0.contains("dead-lettered") || $0.contains("task started") }.count
        let logBytes = worker.log.reduce(0) { $0 + $1.utf8.count }
        print(
            "hostile \(kind.rawValue): handled \(seen) times, \(dead.count) dead letters, "
                + "\(answered.count) of \(ids.count) ordinary tasks answered (\(answered.values.filter { $0 > 1 }.count) twice), "
                + "\(worker.lines(containing: "child died").count) child deaths, log \(worker.log.count) lines, \(logBytes) bytes")
        #expect(Set(answered.keys) == Set(ids), "\(kind): \(answered.count) of \(ids.count) ordinary tasks replied")
        try #require(dead.count >= 1, "\(kind): no dead letter")
        let headers = dead[0].properties.headers ?? [:]
        #expect(headers["x-warren-reason"]?.stringValue == kind.expectedReason)
        let error = headers["x-warren-error"]?.stringValue ?? ""
        #expect(!error.isEmpty && error.utf8.count <= 8192, "\(kind): x-warren-error of \(error.utf8.count) bytes")
        #expect(dead[0].body == hostile.body)
        if [.paddedHeaders, .paddedRetry, .paddedWait].contains(kind) {  // too large with the reasons added: the padding was left out
            #expect(headers["x-warren-dropped-headers"]?.stringValue == "pad")
            #expect(headers["pad"] == nil && headers["id"]?.stringValue == hostile.marker)
        }

        #expect(Set(worker.childPIDs) == children, "\(kind): a child was replaced")
        #expect(!worker.log.contains { $0.contains("child died") || $0.contains("child failed") })
        #expect(await worker.stop() == 0)

        // Exactly once: no second dead letter, no second reply; the work queue is empty.
        while let late = try? await broker.nextDelivery(timeout: .seconds(1)) {
            if late.channel == 3 { dead.append(late) } else if let id = late.properties.correlationID { answered[id, default: 0] += 1 }
        }
        #expect(dead.count == 1, "\(kind): \(dead.count) dead letters")
        #expect(answered.values.allSatisfy { $0 == 1 }, "\(kind): an ordinary task replied twice")
        for id in ids {
            let runs = worker.lines(containing: id).filter { $0.contains("task succeeded") }.count
            #expect(runs == 1, "\(kind): task \(id) ran \(runs) times")
        }
        let handled = worker.lines(containing: hostile.marker).filter { $0.contains("dead-lettered") || $0.contains("task started") }
        #expect((1...4).contains(handled.count), "\(kind): the hostile message was handled \(handled.count) times")
        let longest = worker.log.map(\.utf8.count).max() ?? 0
        #expect(longest <= 16_384, "\(kind): a log line of \(longest) bytes")
        #expect(try await broker.depth(queue) == 0)
        await broker.close()
    }

    @Test(
        "control characters in a task's name and id (issue 12, log injection): escaped in the worker's log and in dlq list, one line each")
    func controlCharacters() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let broker = try await BrokerIO.open()
        let marker = "hostile-\(UUID().uuidString.lowercased())"
        let name = "demo.x\n2026-01-01T00:00:00+0000 info warren-demo: [Warren] forged line \u{1b}[31m\u{7}\u{202e}"
        let id = marker + "\r\n\u{1b}]0;title\u{7}forged id\u{9b}2J"
        let properties = AMQPBasicProperties(
            contentType: "application/json", contentEncoding: "utf-8",
            headers: ["lang": "py", "task": .string(name), "id": .string(id), "retries": .int32(0)], deliveryMode: .persistent)
        try await broker.publish(Array("[[2, 3], {}, {}]".utf8), exchange: "", routingKey: setup.queue("latency"), properties: properties)
        try await worker.waitForLog("unknown task dead-lettered", timeout: .seconds(30))
        let listed = try await DemoBinary.run(["dlq", "list", "--config", setup.path])
        #expect(await worker.stop() == 0)
        await broker.close()

        /// A character a terminal acts on, or that breaks a line, besides the newline ending it.
        func raw(_ text: some StringProtocol) -> Bool {
            text.unicodeScalars.contains { $0 != "\n" && ($0.properties.generalCategory == .control || $0 == "\u{202e}") }
        }
        let forged = worker.lines(containing: "forged")
        #expect(!forged.isEmpty)
        #expect(forged.allSatisfy { $0.contains(marker) && $0.contains("dead-lettered") }, "a forged log line: \(forged)")
        #expect(!worker.log.contains(where: raw), "\(worker.log.filter(raw))")
        #expect(listed.status == 0, "\(listed.err)")
        #expect(!raw(listed.out) && !raw(listed.err), "\(listed.out)")
        let rows = listed.out.split(separator: "\n").filter { $0.contains("forged") }
        #expect(rows.count == 1 && rows.allSatisfy { $0.contains(marker) && $0.contains("unknown-task") }, "\(listed.out)")
    }

    /// One message of the settle-path fuzz: what it carries and how it must end.
    struct FuzzCase {
        var properties: AMQPBasicProperties
        var body: [UInt8]
        var id: String
        /// The dead letter's reason, or nil when the task succeeds.
        var reason: String?
    }

    static func fuzzCase(_ index: Int, replyTo: String, using rng: inout SplitMix64) -> FuzzCase {
        // An id of 1 to 400 bytes: over 255 it is malformed (no reply could carry it).
        let prefix = "fuzz-\(index)-"
        let id = prefix + String(repeating: "i", count: Int.random(in: 0...400 - prefix.count, using: &rng))
        var headers: AMQPTable = ["lang": "py", "id": .string(id), "retries": .int32(0)]
        // Headers from none to as large as the publisher's own frame allows.
        if Bool.random(using: &rng) { headers["pad"] = .string(String(repeating: "p", count: Int.random(in: 0...130_700, using: &rng))) }
        let body: String
        var reason: String?
        switch Int.random(in: 0..<3, using: &rng) {
        case 0:
            headers["task"] = "demo.add"
            body = "[[\(index), 1], {}, {}]"
        case 1:
            headers["task"] = "demo.add"
            body = "[[\(index), 1, 2], {}, {}]"
            reason = "malformed"
        default:
            headers["task"] = "demo.fail"
            body = #"[["\#(index) \#(String(repeating: "e", count: Int.random(in: 0...300_000, using: &rng)))"], {}, {}]"#
            reason = "failed"
        }
        if id.utf8.count > 255 { reason = "malformed" }
        let properties = AMQPBasicProperties(
            contentType: "application/json", contentEncoding: "utf-8", headers: headers, deliveryMode: .persistent, replyTo: replyTo)
        return FuzzCase(properties: properties, body: Array(body.utf8), id: id, reason: reason)
    }

    @Test("settle-path fuzz: random header sizes up to frame_max, id lengths, error sizes; each message ends once, as it must")
    func settlePathFuzz() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let children = Set(worker.childPIDs)
        let broker = try await BrokerIO.open()
        let replies = try await broker.replyQueue()  // channel 2
        try await broker.consume(setup.deadLetterQueue)  // channel 3
        let queue = setup.queue("latency")

        let seed = UInt64.random(in: 0 ... .max)
        var rng = SplitMix64(seed: seed)
        let cases = (0..<40).map { Self.fuzzCase($0, replyTo: replies, using: &rng) }
        for c in cases { try await broker.publish(c.body, exchange: "", routingKey: queue, properties: c.properties) }

        let expectedDead = cases.filter { $0.reason != nil }.count
        let expectedReplies = cases.filter { $0.id.utf8.count <= 255 }.count
        var dead: [[UInt8]: [AMQPDelivery]] = [:]
        var answered: [String: Int] = [:]
        let deadline = ContinuousClock.now + .seconds(60)
        while dead.values.joined().count < expectedDead || answered.values.reduce(0, +) < expectedReplies {
            let left = deadline - ContinuousClock.now
            guard left > .zero, let delivery = try? await broker.nextDelivery(timeout: left) else { break }
            if delivery.channel == 3 {
                dead[delivery.body, default: []].append(delivery)
            } else if let id = delivery.properties.correlationID {
                answered[id, default: 0] += 1
            }
        }
        #expect(Set(worker.childPIDs) == children, "a child was replaced (seed \(seed))")
        #expect(await worker.stop() == 0)
        while let late = try? await broker.nextDelivery(timeout: .seconds(1)) {
            if late.channel == 3 {
                dead[late.body, default: []].append(late)
            } else if let id = late.properties.correlationID {
                answered[id, default: 0] += 1
            }
        }
        for c in cases {
            let letters = dead[c.body] ?? []
            let what =
                "message \(c.id.prefix(12)) (id \(c.id.utf8.count) bytes, body \(c.body.count), "
                + "headers \(c.properties.headers?.encodedSize ?? 0)) (seed \(seed))"
            #expect(letters.count == (c.reason == nil ? 0 : 1), "\(what): \(letters.count) dead letters")
            if let letter = letters.first {
                let headers = letter.properties.headers ?? [:]
                #expect(headers["x-warren-reason"]?.stringValue == c.reason, "\(what)")
                #expect(headers["x-warren-error"]?.stringValue.map { !$0.isEmpty && $0.utf8.count <= 4096 } == true, "\(what)")
            }
            #expect(answered[c.id] == (c.id.utf8.count <= 255 ? 1 : nil), "\(what): \(answered[c.id] ?? 0) replies")
        }
        #expect(!worker.log.contains { $0.contains("child died") || $0.contains("child failed") })
        let longest = worker.log.map(\.utf8.count).max() ?? 0
        #expect(longest <= 16_384, "a log line of \(longest) bytes (seed \(seed))")
        #expect(try await broker.depth(queue) == 0)
        await broker.close()
        print(
            "settle-path fuzz: \(cases.count) messages, \(dead.count) dead letters, \(answered.count) replies, longest log line \(longest) bytes (seed \(seed))"
        )
    }

    @Test("quorum queue: a poison task with headers padded to fill the frame is dead-lettered once, padding left out, not run")
    func quorumPoisonWithPaddedHeaders() async throws {
        let setup = try TestSetup(latency: ["children: 1", "prefetch: 1", "type: quorum"])
        defer { setup.tearDown() }
        let broker = try await BrokerIO.open()
        try await broker.declare(try setup.configuration(), tasks: ["demo.add"])
        let queue = setup.queue("latency")
        let id = "quorum-\(UUID().uuidString.lowercased())"
        let properties = AMQPBasicProperties(
            contentType: "application/json", contentEncoding: "utf-8",
            headers: [
                "lang": "py", "task": "demo.add", "id": .string(id), "retries": .int32(0),
                "pad": .string(String(repeating: "p", count: 130_700)),
            ],
            deliveryMode: .persistent)
        try await broker.publish(Array("[[1, 1], {}, {}]".utf8), exchange: "", routingKey: queue, properties: properties)
        // Ten deliveries given back unacknowledged, as ten crashed consumers would.
        let given = try await broker.io.perform { connection throws(AMQPError) -> Int in
            let channel = try connection.openChannel()
            defer { try? channel.close() }
            var given = 0
            for _ in 0..<10 {
                guard let delivery = try channel.get(queue: queue) else { break }
                try channel.nack(delivery.deliveryTag, requeue: true)
                given += 1
            }
            return given
        }
        #expect(given == 10)
        try await broker.consume(setup.deadLetterQueue)
        let worker = try await DemoWorker(config: setup.path)
        let dead = try await broker.nextDelivery(timeout: .seconds(20))
        let headers = dead.properties.headers ?? [:]
        #expect(headers["x-warren-reason"]?.stringValue == "poison")
        #expect(headers["id"]?.stringValue == id && headers["pad"] == nil && headers["x-warren-dropped-headers"] == "pad")
        #expect(worker.lines(containing: id).filter { $0.contains("task started") }.isEmpty)
        #expect(await worker.stop() == 0)
        await #expect(throws: WorkerTestError.self) { _ = try await broker.nextDelivery(timeout: .seconds(1)) }
        #expect(try await broker.depth(queue) == 0)
        await broker.close()
    }
}
