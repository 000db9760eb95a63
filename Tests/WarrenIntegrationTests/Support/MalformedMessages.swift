import AMQP
import Foundation
import Warren

/// One raw message a worker must refuse: where to publish it and what it carries.
struct RawMessage: Sendable {
    /// What is wrong with it, for failure messages.
    var kind: String
    /// The exchange (the setup's topic exchange, or "" for straight to a queue).
    var exchange: String
    var routingKey: String
    var properties: AMQPBasicProperties
    var body: [UInt8]
    /// Whether the envelope decoder itself refuses it (otherwise its arguments do not fit the
    /// handler, which the worker finds after decoding).
    var refusedByDecoder = true
}

/// Malformed messages of every kind a worker meets from broken or hostile clients, for the
/// flood test: random bytes, invalid UTF-8, bodies over `max_message_size`, JSON nested past the
/// limit, Celery headers of the wrong type, bodies that are not `[args, kwargs, embed]`, refused
/// serializers and compression, arguments that do not fit the handler, and the hostile ones of
/// issue 12 (retries out of range, ids over 255 bytes, headers that leave no room in a frame).
struct MalformedMessages {
    let setup: TestSetup
    /// The `max_message_size` of the worker's config, in bytes.
    let maxMessageSize: Int

    /// The `index`-th message: the kinds take turns, and the random parts come from `rng`.
    func message(_ index: Int, using rng: inout SplitMix64) -> RawMessage {
        let kinds = Self.kinds
        let (kind, make) = kinds[index % kinds.count]
        var message = make(self, &rng)
        message.kind = kind
        // Through the exchange with a registered task name (demo.add, demo.echo, demo.noop on
        // the latency queue, demo.fail on the default queue), or straight to a queue; each kind
        // takes each way in turn.
        if message.exchange == setup.exchange && message.routingKey.isEmpty {
            switch index / kinds.count % 5 {
            case 0: message.routingKey = "demo.add"
            case 1: message.routingKey = "demo.echo"
            case 2: message.routingKey = "demo.fail"
            case 3: message.routingKey = "demo.noop"
            default:
                message.exchange = ""
                message.routingKey = setup.queue("latency")
            }
        }
        return message
    }

    private typealias Maker = @Sendable (MalformedMessages, inout SplitMix64) -> RawMessage

    private static let celeryJSON = AMQPBasicProperties(contentType: "application/json", contentEncoding: "utf-8")

    private static func celery(_ headers: AMQPTable) -> AMQPBasicProperties {
        var properties = celeryJSON
        properties.headers = ["lang": "py", "id": .string(UUID().uuidString.lowercased()), "retries": .int32(0)]
        for (key, value) in headers { properties.headers?[key] = value }
        return properties
    }

    private func raw(_ body: [UInt8], _ properties: AMQPBasicProperties = .init()) -> RawMessage {
        RawMessage(kind: "", exchange: setup.exchange, routingKey: "", properties: properties, body: body)
    }

    private static let kinds: [(String, Maker)] = [
        (
            "random bytes",
            { m, rng in
                // 0xFF never occurs in UTF-8, so this is never a readable body by chance.
                m.raw([0xFF] + (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            }
        ),
        (
            "invalid UTF-8 in a Celery body",
            { m, _ in
                m.raw(Array(#"[[""#.utf8) + [0xC0, 0x80] + Array(#""], {}, {}]"#.utf8), celery(["task": "demo.echo"]))
            }
        ),
        (
            "a body over max_message_size",
            { m, rng in
                let size = m.maxMessageSize + Int.random(in: 1...4 * m.maxMessageSize, using: &rng)
                // `[["` + padding + `"], {}, {}]` is exactly `size` bytes: always over the limit.
                let padding = [UInt8](repeating: UInt8(ascii: "x"), count: size - 14)
                return m.raw(Array(#"[[""#.utf8) + padding + Array(#""], {}, {}]"#.utf8), celery(["task": "demo.echo"]))
            }
        ),
        (
            "JSON nested past the limit",
            { m, rng in
                let depth = JSONValue.defaultMaxDepth + Int.random(in: 1...500, using: &rng)
                return m.raw(Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth))
            }
        ),
        ("header task as an integer", { m, _ in m.raw(Array("[[1, 2], {}, {}]".utf8), celery(["task": .int32(7)])) }),
        ("header retries as a string", { m, _ in m.raw(Array("[[1, 2], {}, {}]".utf8), celery(["task": "demo.add", "retries": "3"])) }),
        ("header id as a table", { m, _ in m.raw(Array("[[1, 2], {}, {}]".utf8), celery(["task": "demo.add", "id": .table(["a": 1])])) }),
        ("header task as bytes that are not UTF-8", { m, _ in m.raw(Array("[[], {}, {}]".utf8), celery(["task": .bytes([0xFF, 0xFE])])) }),
        ("header timelimit as text", { m, _ in m.raw(Array("[[], {}, {}]".utf8), celery(["task": "demo.noop", "timelimit": "10"])) }),
        ("header eta that is not a time", { m, _ in m.raw(Array("[[], {}, {}]".utf8), celery(["task": "demo.noop", "eta": "tomorrow"])) }),
        (
            "header ignore_result as text",
            { m, _ in m.raw(Array("[[], {}, {}]".utf8), celery(["task": "demo.noop", "ignore_result": "yes"])) }
        ),
        (
            "header nested 1000 arrays deep",
            { m, _ in
                var deep: AMQPValue = "demo.add"
                for _ in 0..<1000 { deep = .array([deep]) }
                return m.raw(Array("[[1, 2], {}, {}]".utf8), celery(["task": deep]))
            }
        ),
        ("Celery headers, body a flat array", { m, _ in m.raw(Array("[2, 3]".utf8), celery(["task": "demo.add"])) }),
        ("Celery headers, body of four parts", { m, _ in m.raw(Array("[[2, 3], {}, {}, {}]".utf8), celery(["task": "demo.add"])) }),
        ("Celery headers, body a string", { m, _ in m.raw(Array(#""add 2 and 3""#.utf8), celery(["task": "demo.add"])) }),
        ("Celery headers, kwargs an array", { m, _ in m.raw(Array("[[], [2, 3], {}]".utf8), celery(["task": "demo.add"])) }),
        (
            "truncated JSON",
            { m, rng in
                let body = Array(#"[[2, 3], {"a": "text"}, {"callbacks": null}]"#.utf8)
                return m.raw(Array(body.prefix(Int.random(in: 1...body.count - 1, using: &rng))), celery(["task": "demo.add"]))
            }
        ),
        (
            "pickle, never unpickled",
            { m, rng in
                var properties = celery(["task": "demo.add"])
                properties.contentType = "application/x-python-serialize"
                return m.raw([0x80, 0x04] + (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }, properties)
            }
        ),
        (
            "a compressed body",
            { m, _ in
                m.raw([0x78, 0x9C, 0x8B, 0x8E, 0x05, 0x00], celery(["task": "demo.add", "compression": "application/x-gzip"]))
            }
        ),
        (
            "header retries Int64.max (retries + 1 overflowed)",
            { m, _ in
                m.raw(Array("[[1, 2], {}, {}]".utf8), celery(["task": "demo.add", "retries": .int64(.max)]))
            }
        ),
        (
            "header id over 255 bytes, with reply_to and no correlation_id",
            { m, rng in
                var properties = celery([
                    "task": "demo.add", "id": .string(String(repeating: "i", count: Int.random(in: 256...1000, using: &rng))),
                ])
                properties.replyTo = "nowhere"
                return m.raw(Array("[[1, 2], {}, {}]".utf8), properties)
            }
        ),
        (
            "headers padded to fill the frame, arguments that do not fit the handler",
            { m, rng in
                // With Warren's reasons added, the dead letter's headers no longer fit a frame.
                let pad = AMQPValue.string(String(repeating: "p", count: Int.random(in: 130_000...130_800, using: &rng)))
                var message = m.raw(Array("[[1, 2, 3], {}, {}]".utf8), celery(["task": "demo.add", "pad": pad]))
                message.refusedByDecoder = false
                message.routingKey = "demo.add"
                return message
            }
        ),
        (
            "arguments that do not fit the handler",
            { m, _ in
                var message = m.raw(Array(#"[["two", "three"], {}, {}]"#.utf8), celery(["task": "demo.add"]))
                message.refusedByDecoder = false
                message.routingKey = "demo.add"
                return message
            }
        ),
    ]
}

/// A small seeded random number generator (SplitMix64), so that a failing flood can be
/// published again exactly from the seed its test prints.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
