import AMQP
import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Encoding tasks as Celery publishes them")
struct TaskEncodingTests {
    let now = Date(timeIntervalSince1970: 1_735_732_800.25)  // 2025-01-01T12:00:00.250000+00:00

    @Test func headersPropertiesAndBodyMatchCelery() throws {
        let task = TaskMessage(name: "demo.add", id: "id-1", args: [2, 3], replyTo: "reply-q", now: now)
        let message = task.encoded(now: now)
        let p = message.properties
        #expect(p.contentType == "application/json")
        #expect(p.contentEncoding == "utf-8")
        #expect(p.deliveryMode == .persistent)
        #expect(p.priority == 0)
        #expect(p.correlationID == "id-1")
        #expect(p.replyTo == "reply-q")
        #expect(p.expiration == nil)
        #expect(p.messageID == "id-1")
        #expect(p.timestamp == 1_735_732_800)

        let headers = try #require(p.headers)
        // Celery's headers in Celery's order, then Warren's one addition: the publish time in ms.
        #expect(headers.keys == TaskMessage.celeryHeaderKeys + [QueueLag.header])
        let expected: AMQPTable = [
            "lang": "py", "task": "demo.add", "id": "id-1", "shadow": .void, "eta": .void, "expires": .void,
            "group": .void, "group_index": .void, "retries": .int32(0), "timelimit": .array([.void, .void]),
            "root_id": "id-1", "parent_id": .void, "argsrepr": "[2, 3]", "kwargsrepr": "{}",
            "origin": .string(TaskMessage.defaultOrigin), "ignore_result": false,
            "replaced_task_nesting": .int32(0), "stamped_headers": .void, "stamps": .table([:]),
            "timestamp_in_ms": .int64(1_735_732_800_250),
        ]
        #expect(headers == expected)

        let body = try JSONValue(parsing: message.body)
        #expect(body == [[2, 3], [:], ["callbacks": .null, "errbacks": .null, "chain": .null, "chord": .null]])
        #expect(
            String(decoding: message.body, as: UTF8.self)
                == #"[[2,3],{},{"callbacks":null,"errbacks":null,"chain":null,"chord":null}]"#)
    }

    @Test func defaultOriginLooksLikeCeleries() {
        #expect(TaskMessage.defaultOrigin.hasPrefix("gen\(ProcessInfo.processInfo.processIdentifier)@"))
    }

    @Test("fresh task ids are lowercase version-4 UUIDs, all different")
    func freshIDs() throws {
        let ids = (0..<2000).map { _ in TaskMessage.newID() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(200) {
            let uuid = try #require(UUID(uuidString: id), "\(id) is not a UUID")
            #expect(uuid.uuidString.lowercased() == id)
            #expect(Array(id)[14] == "4", "version 4: \(id)")
            #expect("89ab".contains(Array(id)[19]), "RFC 4122 variant: \(id)")
        }
        #expect(TaskMessage(name: "demo.noop").id.count == 36)
    }

    @Test func countdownExpiresAndLimits() throws {
        let task = TaskMessage(
            name: "demo.sleep", id: "id-2", kwargs: ["seconds": 1.5], countdown: .seconds(5), expiresIn: .seconds(90),
            retries: 2, timeLimit: TaskTimeLimit(hard: .seconds(60), soft: .milliseconds(45_500)), parentID: "p",
            group: "g", groupIndex: 1, shadow: "sleepy", ignoreResult: true, priority: 7, now: now)
        #expect(task.eta == now.addingTimeInterval(5))
        #expect(task.expires == now.addingTimeInterval(90))
        let message = task.encoded(now: now)
        let headers = try #require(message.properties.headers)
        #expect(headers["eta"] == "2025-01-01T12:00:05.250000+00:00")
        #expect(headers["expires"] == "2025-01-01T12:01:30.250000+00:00")
        #expect(headers["timelimit"] == [.int32(60), .double(45.5)])
        #expect(headers["retries"] == .int32(2))
        #expect(headers["group_index"] == .int32(1))
        #expect(headers["parent_id"] == "p" && headers["group"] == "g" && headers["shadow"] == "sleepy")
        #expect(headers["ignore_result"] == true)
        #expect(headers["kwargsrepr"] == "{'seconds': 1.5}")
        #expect(message.properties.expiration == "90000")
        #expect(message.properties.priority == 7)
        #expect(message.properties.replyTo == nil)
    }

    @Test func expirationInThePastIsZero() {
        let task = TaskMessage(name: "t", expires: now.addingTimeInterval(-10))
        #expect(task.encoded(now: now).properties.expiration == "0")
    }

    @Test func expirationTruncatesToMilliseconds() {
        let task = TaskMessage(name: "t", expires: now.addingTimeInterval(1.2345))
        #expect(task.encoded(now: now).properties.expiration == "1234")
    }

    @Test func roundTrip() throws {
        let task = TaskMessage(
            name: "demo.echo", id: "3f8e2a8e-1111-4d6c-9b1a-2a2b2c2d2e2f", args: [1, "two", [3.5, .null]],
            kwargs: ["big": .int(Int64.max), "neg": .int(Int64.min), "nested": ["k": [true, false]]],
            eta: Date(timeIntervalSince1970: 1_735_732_805.123456), expires: Date(timeIntervalSince1970: 1_735_736_400),
            retries: 4, timeLimit: TaskTimeLimit(hard: .seconds(10), soft: nil), rootID: "root", parentID: "parent",
            group: "group", groupIndex: 3, shadow: "shadow", origin: "gen1@host", ignoreResult: false,
            replyTo: "replies", priority: 5, now: now)
        let message = task.encoded(now: now)
        let decoded = try EnvelopeDecoder().decode(properties: message.properties, body: message.body, routingKey: "demo.echo")
        var expected = task
        expected.headers = try #require(message.properties.headers)
        #expect(decoded == expected)
    }

    @Test func republishKeepsUnknownHeadersAndStamps() throws {
        let headers = CeleryFixture.headers(retries: 1)
            .with("stamps", .table(["monitor": "on"]))
            .with("stamped_headers", ["monitor"])
            .with("replaced_task_nesting", .int32(2))
            .with("x-custom", "kept")
        var task = try EnvelopeDecoder().decode(delivery: CeleryFixture.delivery(properties: CeleryFixture.properties(headers: headers)))
        task.retries += 1
        let out = try #require(task.encoded(now: now).properties.headers)
        #expect(out["retries"] == .int32(2))
        #expect(out["stamps"] == .table(["monitor": "on"]))
        #expect(out["stamped_headers"] == ["monitor"])
        #expect(out["replaced_task_nesting"] == .int32(2))
        #expect(out["x-custom"] == "kept")
        #expect(out["origin"] == "gen4242@laptop")
        #expect(out.keys == TaskMessage.celeryHeaderKeys + ["x-custom", QueueLag.header])
        #expect(task.encoded(now: now).properties.correlationID == CeleryFixture.taskID)
    }

    @Test func argsreprIsPythonRepr() {
        #expect(PythonRepr.repr([1, 2.5, "it's", "a\"b", .null, true, ["k": []]]) == #"[1, 2.5, "it's", 'a"b', None, True, {'k': []}]"#)
        #expect(PythonRepr.repr(["x": "line\nnext\u{01}"]) == #"{'x': 'line\nnext\x01'}"#)
        let long = JSONValue.array(Array(repeating: 12345, count: 400))
        let repr = PythonRepr.truncated(long)
        #expect(repr.count == 1024)
        #expect(repr.hasSuffix("..."))
    }
}
