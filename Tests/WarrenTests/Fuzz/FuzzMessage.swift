import AMQP
import Foundation
import Warren

/// A raw AMQP message as a worker could receive it: what the envelope fuzz tests feed the
/// decoder. Its description is short, so that a failure report stays readable even for a
/// body of megabytes.
struct FuzzMessage: Sendable, CustomStringConvertible {
    var properties: AMQPBasicProperties
    var body: [UInt8]
    var routingKey: String
    /// The mutations that made it, for the failure report.
    var history: [String] = []

    var description: String {
        let shown = body.count <= 200 ? String(decoding: body, as: UTF8.self) : "\(body.count) bytes"
        let headers = properties.headers.map { String(describing: $0) } ?? "none"
        return """
            routing key \(routingKey.debugDescription), content type \(properties.contentType.debugDescription), \
            encoding \(properties.contentEncoding.debugDescription), headers \(headers.prefix(600)), \
            body \(shown.debugDescription) after \(history)
            """
    }

    /// A well-formed Celery v2 message for a random task.
    static func celery(_ task: TaskMessage) -> FuzzMessage {
        let encoded = task.encoded()
        return FuzzMessage(properties: encoded.properties, body: encoded.body, routingKey: task.name)
    }
}

/// Random messages for the envelope decoder: noise, well-formed Celery messages, and
/// well-formed messages broken in the ways real clients and broken networks break them.
enum MessageFuzzer {
    /// The body size limit the fuzzed decoder is given: small, so that "over the limit" is cheap.
    static let maxBodySize = 4096
    /// The nesting limit the fuzzed decoder is given (the default).
    static let maxDepth = JSONValue.defaultMaxDepth

    /// The Celery header keys, so mutations hit the ones the decoder reads.
    static let celeryKeys = [
        "task", "id", "retries", "eta", "expires", "timelimit", "root_id", "parent_id", "group", "group_index", "shadow",
        "origin", "ignore_result", "compression", "argsrepr", "kwargsrepr", "stamps", "lang",
    ]

    /// A random task to publish: every field Celery sends, with random values.
    static func task(using rng: inout some RandomNumberGenerator) -> TaskMessage {
        func date() -> Date {  // Python's datetime: years 1 to 9999, whole microseconds
            let micros = Int64.random(in: -62_135_596_800_000_000...253_402_300_799_999_999, using: &rng)
            return Date(timeIntervalSince1970: Double(micros) / 1e6)
        }
        func limit() -> Duration? { rng.chance(0.5) ? nil : .milliseconds(rng.int(1...1_000_000_000)) }
        return TaskMessage(
            name: rng.word(), id: rng.chance(0.8) ? TaskMessage.newID() : rng.word(),
            args: (0..<rng.int(0...5)).map { _ in rng.json() }, kwargs: rng.jsonObject(),
            eta: rng.chance(0.3) ? date() : nil, expires: rng.chance(0.3) ? date() : nil,
            retries: rng.chance(0.7) ? rng.int(0...10) : Int.random(in: 0 ... .max, using: &rng),
            timeLimit: TaskTimeLimit(hard: limit(), soft: limit()),
            rootID: rng.chance(0.5) ? rng.word() : nil, parentID: rng.chance(0.5) ? rng.word() : nil,
            group: rng.chance(0.3) ? rng.text() : nil, groupIndex: rng.chance(0.3) ? Int.random(in: .min ... .max, using: &rng) : nil,
            shadow: rng.chance(0.3) ? rng.text() : nil, origin: rng.chance(0.5) ? rng.text() : nil, ignoreResult: rng.chance(0.3),
            replyTo: rng.chance(0.5) ? rng.word() : nil, priority: rng.chance(0.3) ? UInt8.random(in: 0...255, using: &rng) : nil,
            embed: rng.chance(0.6) ? TaskMessage.emptyEmbed : rng.chance(0.5) ? .null : .object(rng.jsonObject()))
    }

    /// Any message: random bytes, or a Celery message with up to five mutations.
    static func message(using rng: inout some RandomNumberGenerator) -> FuzzMessage {
        if rng.chance(0.15) {
            let headers: AMQPTable? =
                rng.chance(0.5) ? nil : AMQPTable((0..<rng.int(0...4)).map { _ in (rng.pick(celeryKeys), rng.amqpValue()) })
            return FuzzMessage(
                properties: AMQPBasicProperties(headers: headers), body: rng.bytes(rng.int(0...300)),
                routingKey: rng.chance(0.8) ? rng.word() : "", history: ["random bytes"])
        }
        var message = FuzzMessage.celery(task(using: &rng))
        for _ in 0..<rng.int(0...5) { mutate(&message, using: &rng) }
        return message
    }

    /// Applies one random mutation.
    static func mutate(_ message: inout FuzzMessage, using rng: inout some RandomNumberGenerator) {
        var headers = message.properties.headers ?? [:]
        let key = rng.pick(celeryKeys)
        let what: String
        switch rng.int(0...15) {
        case 0:
            headers[key] = rng.amqpValue()
            what = "header \(key) of a random kind"
        case 1:
            headers[key] = nil
            what = "no header \(key)"
        case 2:
            headers[rng.text(maxLength: 8)] = rng.amqpValue()
            what = "an extra header"
        case 3:
            headers[key] = deepAMQPValue(depth: rng.int(1...3000), using: &rng)
            what = "header \(key) nested deeply"
        case 4:
            message.body = Array(message.body.prefix(rng.int(0...message.body.count)))
            what = "body truncated"
        case 5:
            for _ in 0..<rng.int(1...4) where !message.body.isEmpty {
                message.body[rng.int(0...message.body.count - 1)] = UInt8.random(in: 0...255, using: &rng)
            }
            what = "body bytes garbled"
        case 6:
            message.body.insert(contentsOf: rng.pick(invalidUTF8), at: rng.int(0...message.body.count))
            what = "invalid UTF-8 in the body"
        case 7:
            let depth = rng.chance(0.5) ? maxDepth + rng.int(-2...2) : rng.int(1...200_000)
            message.body = deepJSON(depth: depth, using: &rng)
            what = "body nested \(depth) deep"
        case 8:
            let size = maxBodySize + (rng.chance(0.5) ? rng.int(-1...1) : rng.int(2...10 * maxBodySize))
            message.body = oversizedBody(size, using: &rng)
            what = "body of \(size) bytes"
        case 9:
            message.body = Array(rng.pick(oddBodies).utf8)
            what = "body of an odd shape"
        case 10:
            message.properties.contentType = rng.chance(0.7) ? rng.pick(contentTypes) : rng.text()
            what = "content type"
        case 11:
            message.properties.contentEncoding =
                rng.chance(0.7) ? rng.pick(["utf-8", "UTF8", "binary", "latin-1", "", "gzip"]) : rng.text()
            what = "content encoding"
        case 12:
            message.routingKey = rng.chance(0.5) ? "" : rng.text()
            message.properties.messageID = rng.chance(0.5) ? nil : rng.chance(0.5) ? "" : rng.text()
            message.properties.correlationID = rng.chance(0.5) ? nil : rng.chance(0.5) ? "" : rng.text()
            what = "routing key and ids"
        case 13:
            headers[rng.pick(["eta", "expires"])] = rng.chance(0.8) ? .string(rng.isoTimeLike()) : rng.amqpValue(depth: 0)
            what = "a time header"
        case 14:
            headers["timelimit"] = .array((0..<rng.int(0...3)).map { _ in rng.amqpValue(depth: 0) })
            what = "timelimit"
        default:
            let json = rng.json(depth: 4)
            message.body = json.serialized()
            what = "body \(json.kindName)"
        }
        message.properties.headers = headers
        message.history.append(what)
    }

    /// Byte sequences that are not UTF-8: a lone continuation byte, an overlong encoding, a
    /// UTF-16 surrogate, a code point past U+10FFFF, a truncated sequence, bytes never used.
    static let invalidUTF8: [[UInt8]] = [
        [0x80], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFF], [0xFE, 0xFF],
    ]

    /// Content types clients send, the refused ones included.
    static let contentTypes = [
        "application/json", "application/json; charset=utf-8", "application/json;charset=\"UTF-8\"",
        "application/json; charset=latin-1", "application/x-python-serialize", "application/x-yaml", "application/x-msgpack",
        "text/plain", "text/json", "", ";", "application/json; charset=", "APPLICATION/JSON",
    ]

    /// JSON that is not a task body, or only just one.
    static let oddBodies = [
        "", " \n\t", "null", "[]", "{}", "[[2, 3]]", "[2, 3]", "[[], {}, {}, {}]", "[null, null, null]", "[[], [], {}]",
        "[[], {}, 5]", "\"text\"", "5", "true", "[[1], {\"a\": 1}, null]", "\u{FEFF}[[1]]", "[[1]] x", "[NaN, Infinity]",
        "[[-Infinity], {\"a\": NaN}]", "[[\"\\ud800\"]]", "[[\"\\udc00\\ud800\"]]", "[[1e999, -1e999, 1e-999]]",
        "[[99999999999999999999999]]", "[[01]]", "[[\"\\x\"]]", "[[\"\\u12\"]]", "{\"a\" 1}", "[[1,]]", "[\"\u{1}\"]",
    ]

    /// An AMQP value that nests arrays, tables or both `depth` levels deep.
    static func deepAMQPValue(depth: Int, using rng: inout some RandomNumberGenerator) -> AMQPValue {
        var value = rng.amqpValue(depth: 0)
        let arrays = rng.pick([0.0, 0.5, 1.0])  // the share of arrays among the levels
        for _ in 0..<depth { value = rng.chance(arrays) ? .array([value]) : .table(["k": value]) }
        return value
    }

    /// `[[[…]]]` or `{"a":{"a":…}}`, `depth` levels, sometimes left unclosed.
    static func deepJSON(depth: Int, using rng: inout some RandomNumberGenerator) -> [UInt8] {
        let (open, close): ([UInt8], [UInt8]) =
            rng.chance(0.5) ? (Array("[".utf8), Array("]".utf8)) : (Array("{\"a\":".utf8), Array("}".utf8))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(depth * (open.count + close.count) + 1)
        for _ in 0..<depth { bytes += open }
        bytes += Array("1".utf8)
        if rng.chance(0.8) { for _ in 0..<depth { bytes += close } }
        return bytes
    }

    /// A body of `size` bytes: a task body padded with a long string argument, or noise.
    static func oversizedBody(_ size: Int, using rng: inout some RandomNumberGenerator) -> [UInt8] {
        guard rng.chance(0.7) else { return rng.bytes(size) }
        let (head, tail) = (Array(#"[[""#.utf8), Array(#""], {}, null]"#.utf8))  // the padding goes between the quotes
        guard size >= head.count + tail.count else { return Array((head + tail).prefix(size)) }
        return head + [UInt8](repeating: UInt8(ascii: "x"), count: size - head.count - tail.count) + tail
    }
}
