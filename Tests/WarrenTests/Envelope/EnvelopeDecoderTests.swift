import AMQP
import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Decoding Celery v2 task messages")
struct EnvelopeDecoderTests {
    let decoder = EnvelopeDecoder()

    @Test func realCeleryMessage() throws {
        let task = try decoder.decode(delivery: CeleryFixture.delivery())
        #expect(task.name == "demo.add")
        #expect(task.id == CeleryFixture.taskID)
        #expect(task.args == [2, 3])
        #expect(task.kwargs.isEmpty)
        #expect(task.embed == TaskMessage.emptyEmbed)
        #expect(task.callbacks == .null && task.errbacks == .null && task.chain == .null && task.chord == .null)
        #expect(task.retries == 0)
        #expect(task.eta == nil && task.expires == nil)
        #expect(task.timeLimit == .none)
        #expect(task.rootID == CeleryFixture.taskID)
        #expect(task.parentID == nil && task.group == nil && task.groupIndex == nil && task.shadow == nil)
        #expect(task.origin == "gen4242@laptop")
        #expect(task.ignoreResult == false)
        #expect(task.replyTo == CeleryFixture.replyTo)
        #expect(task.correlationID == CeleryFixture.taskID)
        #expect(task.wantsReply)
        #expect(task.priority == 0)
        #expect(task.contentType == "application/json")
        #expect(task.headers == CeleryFixture.headers())
    }

    @Test func celeryHeadersWithValues() throws {
        let headers = CeleryFixture.headers(retries: 3)
            .with("eta", "2025-01-01T12:00:05.123456+00:00")
            .with("expires", "2025-01-01T13:00:00+01:00")
            .with("timelimit", [.int32(30), .double(12.5)])
            .with("parent_id", "p-1")
            .with("group", "g-1")
            .with("group_index", .int32(2))
            .with("shadow", "nice name")
            .with("ignore_result", true)
        let task = try decoder.decode(delivery: CeleryFixture.delivery(properties: CeleryFixture.properties(headers: headers)))
        #expect(task.retries == 3)
        #expect(task.eta == Date(timeIntervalSince1970: 1_735_732_805.123456))
        #expect(task.expires == Date(timeIntervalSince1970: 1_735_732_800))
        #expect(task.timeLimit == TaskTimeLimit(hard: .seconds(30), soft: .milliseconds(12_500)))
        #expect(task.parentID == "p-1" && task.group == "g-1" && task.groupIndex == 2 && task.shadow == "nice name")
        #expect(task.ignoreResult)
        #expect(!task.wantsReply)
    }

    @Test func timelimitZeroMeansNone() throws {
        let headers = CeleryFixture.headers().with("timelimit", [.int32(0), .int32(5)])
        let task = try decoder.decode(delivery: CeleryFixture.delivery(properties: CeleryFixture.properties(headers: headers)))
        #expect(task.timeLimit == TaskTimeLimit(hard: nil, soft: .seconds(5)))
    }

    @Test func bigIntegersFromPyAMQP() throws {
        // py-amqp writes ints beyond ±2^31-1 as 'L' with a signed payload; librabbitmq reads 'L' unsigned.
        let headers = CeleryFixture.headers()
            .with("retries", .uint64(5_000_000_000))
            .with("group_index", .uint64(UInt64(bitPattern: -5_000_000_000)))
        let task = try decoder.decode(delivery: CeleryFixture.delivery(properties: CeleryFixture.properties(headers: headers)))
        #expect(task.retries == 5_000_000_000)
        #expect(task.groupIndex == -5_000_000_000)
    }

    @Test func docsExampleWithNullEmbedAndNoID() throws {
        // docs/internals/protocol.rst: body (args, kwargs, None), no id header.
        let properties = AMQPBasicProperties(
            contentType: "application/json", contentEncoding: "utf-8",
            headers: ["lang": "py", "task": "proj.tasks.add", "argsrepr": "(2, 2)", "kwargsrepr": "{}"],
            correlationID: "c-42")
        let task = try decoder.decode(delivery: CeleryFixture.delivery(properties: properties, body: "[[2, 2], {}, null]"))
        #expect(task.name == "proj.tasks.add")
        #expect(task.id == "c-42")
        #expect(task.args == [2, 2])
        #expect(task.embed == .null)
        #expect(task.callbacks == .null)
    }

    // MARK: Leniency for plain AMQP clients

    @Test func routingKeyIsTheTaskName() throws {
        let task = try decoder.decode(delivery: CeleryFixture.plain(#"{"x": 1}"#, routingKey: "demo.echo"))
        #expect(task.name == "demo.echo")
        #expect(task.args.isEmpty)
        #expect(task.kwargs == ["x": 1])
        #expect(task.retries == 0)
        #expect(task.replyTo == nil && !task.wantsReply)
    }

    @Test func idFallsBackToMessageIDThenCorrelationIDThenFreshUUID() throws {
        let withMessageID = try decoder.decode(
            delivery: CeleryFixture.plain("{}", properties: .init(correlationID: "corr", messageID: "msg")))
        #expect(withMessageID.id == "msg")
        let withCorrelation = try decoder.decode(delivery: CeleryFixture.plain("{}", properties: .init(correlationID: "corr")))
        #expect(withCorrelation.id == "corr")
        let fresh = try decoder.decode(delivery: CeleryFixture.plain("{}"))
        #expect(UUID(uuidString: fresh.id) != nil)
        #expect(fresh.id == fresh.id.lowercased())
        #expect(fresh.id.count == 36)
    }

    @Test(
        arguments: [
            ("", [], [:]),
            ("  \n", [], [:]),
            ("null", [], [:]),
            ("[]", [], [:]),
            ("[[1, 2]]", [1, 2], [:]),
            (#"[[1], {"b": 2}]"#, [1], ["b": 2]),
            (#"[null, null, null]"#, [], [:]),
            (#"{"a": 1, "b": [true]}"#, [], ["a": 1, "b": [true]]),
        ] as [(String, [JSONValue], JSONObject)])
    func bodyShapes(body: String, args: [JSONValue], kwargs: JSONObject) throws {
        let task = try decoder.decode(delivery: CeleryFixture.plain(body))
        #expect(task.args == args)
        #expect(task.kwargs == kwargs)
    }

    @Test(arguments: [nil, "", "application/json", "application/json; charset=utf-8", "Application/JSON", "text/plain"])
    func acceptedContentTypes(contentType: String?) throws {
        let task = try decoder.decode(
            delivery: CeleryFixture.plain("[[1]]", properties: .init(contentType: contentType, contentEncoding: "UTF-8")))
        #expect(task.args == [1])
    }

    @Test func kwargsKeepTheirOrder() throws {
        let task = try decoder.decode(delivery: CeleryFixture.plain(#"{"z": 1, "a": 2, "m": 3}"#))
        #expect(task.kwargs.keys == ["z", "a", "m"])
    }

    // MARK: Malformed messages

    @Test(arguments: [
        (
            "application/x-python-serialize",
            "content type 'application/x-python-serialize' (pickle) is refused: Warren never unpickles; "
                + "Warren reads only application/json (Celery: task_serializer='json')"
        ),
        (
            "application/x-yaml",
            "content type 'application/x-yaml' (YAML) is not supported; Warren reads only application/json "
                + "(Celery: task_serializer='json')"
        ),
        (
            "application/octet-stream",
            "content type 'application/octet-stream' is not supported; Warren reads only application/json "
                + "(Celery: task_serializer='json')"
        ),
        (
            "application/json; charset=latin-1",
            "charset 'latin-1' of content type 'application/json; charset=latin-1' is not supported; Warren reads only utf-8"
        ),
    ])
    func refusedContentTypes(contentType: String, message: String) {
        let properties = CeleryFixture.properties().with(\.contentType, contentType)
        let error = envelopeError { () throws(EnvelopeError) in try decoder.decode(delivery: CeleryFixture.delivery(properties: properties))
        }
        #expect(error?.code == .unsupportedContent)
        #expect(error?.message == message)
        #expect(error?.reason == .malformed)
        #expect(error?.taskName == "demo.add")
        #expect(error?.taskID == CeleryFixture.taskID)
    }

    @Test func refusedEncodingAndCompression() {
        let binary = CeleryFixture.properties().with(\.contentEncoding, "binary")
        #expect(
            envelopeError { () throws(EnvelopeError) in try decoder.decode(delivery: CeleryFixture.delivery(properties: binary)) }?.message
                == "content encoding 'binary' is not supported; Warren reads only utf-8")
        let zlib = CeleryFixture.properties(headers: CeleryFixture.headers().with("compression", "application/x-gzip"))
        #expect(
            envelopeError { () throws(EnvelopeError) in try decoder.decode(delivery: CeleryFixture.delivery(properties: zlib)) }?.message
                == "compressed bodies (compression 'application/x-gzip') are not supported; publish without compression")
    }

    @Test(arguments: [
        ("retries", AMQPValue.string("3"), #"header 'retries' must be an integer, got string "3""#),
        ("retries", AMQPValue.int32(-1), "header 'retries' must not be negative, got -1"),
        ("id", AMQPValue.int32(5), "header 'id' must be a string, got integer 5"),
        ("ignore_result", AMQPValue.string("yes"), #"header 'ignore_result' must be a boolean, got string "yes""#),
        ("eta", AMQPValue.int64(1_700_000_000), "header 'eta' must be an ISO-8601 time string, got integer 1700000000"),
        ("eta", AMQPValue.string("tomorrow"), #"header 'eta' is not an ISO-8601 time: "tomorrow""#),
        ("expires", AMQPValue.string("2025-02-30T00:00:00"), #"header 'expires' is not an ISO-8601 time: "2025-02-30T00:00:00""#),
        ("timelimit", AMQPValue.int32(5), "header 'timelimit' must be [hard, soft] in seconds, got integer 5"),
        (
            "timelimit", AMQPValue.array([.void, .string("x")]),
            #"header 'timelimit' must be [hard, soft] in seconds, got an array of 2: [None, string "x"]"#
        ),
        (
            "timelimit", AMQPValue.array([.int32(-1), .void]),
            "header 'timelimit' must be [hard, soft] in seconds, got an array of 2: [integer -1, None]"
        ),
        (
            "timelimit", AMQPValue.array([.double(1e300), .void]),
            "header 'timelimit' must be [hard, soft] in seconds, got an array of 2: [number 1e+300, None]"
        ),
        ("group_index", AMQPValue.double(1.5), "header 'group_index' must be an integer, got number 1.5"),
        ("root_id", AMQPValue.bytes([0xFF, 0xFE]), "header 'root_id' must be a string, got 2 bytes that are not UTF-8 text"),
        ("origin", AMQPValue.table([:]), "header 'origin' must be a string, got a table"),
    ])
    func headersOfTheWrongType(key: String, value: AMQPValue, message: String) {
        let properties = CeleryFixture.properties(headers: CeleryFixture.headers().with(key, value))
        let error = envelopeError { () throws(EnvelopeError) in try decoder.decode(delivery: CeleryFixture.delivery(properties: properties))
        }
        #expect(error?.code == .invalidHeader)
        #expect(error?.message == message)
        #expect(error?.reason == .malformed)
    }

    @Test func taskHeaderOfTheWrongType() {
        let properties = CeleryFixture.properties(headers: CeleryFixture.headers().with("task", .int32(7)))
        let error = envelopeError { () throws(EnvelopeError) in try decoder.decode(delivery: CeleryFixture.delivery(properties: properties))
        }
        #expect(error?.message == "header 'task' must be a string, got integer 7")
        #expect(error?.taskName == nil)
    }

    @Test func noTaskName() {
        let error = envelopeError { () throws(EnvelopeError) in try decoder.decode(delivery: CeleryFixture.plain("{}", routingKey: "")) }
        #expect(error?.message == "no task name: the message has no 'task' header and an empty routing key")
    }

    @Test(arguments: [
        (
            "[2, 3]",
            "the body must be [args, kwargs, embed] (or [args] or [args, kwargs]); its first element, args, must be an "
                + "array, got integer 2 (wrap positional arguments: [[2, 3]])"
        ),
        (
            "[[2], [3]]",
            "the body must be [args, kwargs, embed] (or [args] or [args, kwargs]); its second element, kwargs, must be "
                + "an object, got array of 1"
        ),
        (
            "[[], {}, 5]",
            "the body must be [args, kwargs, embed] (or [args] or [args, kwargs]); its third element, embed, must be "
                + "an object, got integer 5"
        ),
        ("[[], {}, {}, {}]", "the body must be [args, kwargs, embed] (or [args] or [args, kwargs]), got an array of 4 elements"),
        (
            #""hello""#,
            #"the body must be a JSON array [args, kwargs, embed] or an object of keyword arguments, got string "hello""#
        ),
        ("[[1, 2], {]", "body: invalid JSON: expected a string key at line 1, column 11"),
    ])
    func malformedBodies(body: String, message: String) {
        let error = envelopeError { () throws(EnvelopeError) in try decoder.decode(delivery: CeleryFixture.delivery(body: body)) }
        #expect(error?.message == message)
        #expect(error?.reason == .malformed)
        #expect(error?.taskName == "demo.add")
    }

    @Test func invalidUTF8Body() {
        let bytes = Array(#"[["caf"#.utf8) + [0xE9] + Array(#""]]"#.utf8)
        let error = envelopeError { () throws(EnvelopeError) in
            try decoder.decode(delivery: CeleryFixture.delivery(properties: CeleryFixture.properties(), bytes: bytes))
        }
        #expect(error?.code == .invalidJSON)
        #expect(error?.message == "body is not valid UTF-8 (byte 6)")
    }

    @Test func bodyTooLarge() {
        let small = EnvelopeDecoder(maxBodySize: 16)
        let error = envelopeError { () throws(EnvelopeError) in try small.decode(delivery: CeleryFixture.delivery()) }
        #expect(error?.code == .tooLarge)
        #expect(error?.message == "body is \(CeleryFixture.body.utf8.count) bytes, over the limit of 16 bytes")
    }

    @Test func nestingTooDeep() throws {
        let deep = "[[" + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "]]"
        let error = envelopeError { () throws(EnvelopeError) in try decoder.decode(delivery: CeleryFixture.delivery(body: deep)) }
        #expect(error?.code == .invalidJSON)
        #expect(error?.message == "body: invalid JSON: arrays and objects nest deeper than the limit of 64 at line 1, column 65")
        let shallow = EnvelopeDecoder(maxDepth: 3)
        #expect(throws: EnvelopeError.self) { try shallow.decode(delivery: CeleryFixture.delivery(body: "[[[[1]]]]")) }
        _ = try shallow.decode(delivery: CeleryFixture.delivery(body: "[[[1]]]"))
    }
}

extension AMQPBasicProperties {
    func with<V>(_ keyPath: WritableKeyPath<AMQPBasicProperties, V>, _ value: V) -> AMQPBasicProperties {
        var copy = self
        copy[keyPath: keyPath] = value
        return copy
    }
}
