import AMQP
import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// The inputs fuzzing found that Warren handled wrongly, kept as plain tests with the exact
/// answer now expected, so they stay fixed whatever the random generators try next.
@Suite("Inputs found by fuzzing")
struct FuzzRegressionTests {
    // MARK: - Envelope

    private func refusal(_ properties: AMQPBasicProperties, _ body: String = "[[1], {}, null]") -> EnvelopeError? {
        envelopeError { () throws(EnvelopeError) in
            try EnvelopeDecoder().decode(properties: properties, body: Array(body.utf8), routingKey: "demo.add")
        }
    }

    @Test("a content type with line breaks and control characters is shown escaped")
    func contentTypeEscaped() {
        let error = refusal(AMQPBasicProperties(contentType: "text/x\r\n\u{85}\u{1B}"))
        #expect(
            error?.message
                == #"content type 'text/x\r\n\u0085\u001b' is not supported; Warren reads only application/json (Celery: task_serializer='json')"#
        )
        let encoding = refusal(AMQPBasicProperties(contentEncoding: "utf\n16"))
        #expect(encoding?.message == #"content encoding 'utf\n16' is not supported; Warren reads only utf-8"#)
    }

    @Test("a task name or id with control characters is shown escaped in the error's description")
    func contextEscaped() {
        let error = EnvelopeError(.invalidBody, "bad", taskName: "a\nb", taskID: "\u{7F}")
        #expect(error.description == #"bad (task a\nb, id \u007f)"#)
    }

    @Test("a header nested thousands of arrays deep is described in a few words")
    func deepHeaderDescribed() {
        var deep = AMQPValue.int32(1)
        for _ in 0..<5000 { deep = .array([deep, .void]) }
        let error = refusal(AMQPBasicProperties(headers: ["task": "demo.add", "id": deep]))
        #expect(error?.message == "header 'id' must be a string, got an array of 2: [an array of 2: [an array of 2, None], None]")
    }

    @Test("a time past the year 9999 in UTC is refused: it could not be written back when the task waits or is retried")
    func timeOutOfRange() {
        let late = refusal(AMQPBasicProperties(headers: ["eta": "9999-12-31T23:59:59.999999-23:59"]))
        #expect(late?.code == .invalidHeader)
        #expect(late?.message == #"header 'eta' is out of range (years 1 to 9999 in UTC): string "9999-12-31T23:59:59.999999-23:59""#)
        let far = refusal(AMQPBasicProperties(headers: ["expires": .timestamp(.max)]))
        #expect(far?.message == "header 'expires' is out of range (years 1 to 9999 in UTC): timestamp \(UInt64.max)")
        let last = try? EnvelopeDecoder().decode(
            properties: AMQPBasicProperties(headers: ["eta": "9999-12-31T23:59:59+00:00"]), body: [], routingKey: "demo.add")
        #expect(last?.eta.map { CeleryTime.format($0) } == "9999-12-31T23:59:59+00:00")
    }

    @Test("a positive time limit under half a millisecond is 1 ms, not 0 (which would read back as no limit)")
    func tinyTimeLimit() throws {
        let headers: AMQPTable = ["timelimit": [.decimal(scale: 93, value: 4_162_384_809), .double(0.0004)]]
        let task = try EnvelopeDecoder().decode(properties: AMQPBasicProperties(headers: headers), body: [], routingKey: "demo.add")
        #expect(task.timeLimit == TaskTimeLimit(hard: .milliseconds(1), soft: .milliseconds(1)))
        let again = task.encoded()
        let reread = try EnvelopeDecoder().decode(properties: again.properties, body: again.body, routingKey: "demo.add")
        #expect(reread.timeLimit == task.timeLimit)
    }

    @Test("an invalid JSON escape before a byte that is not printable ASCII names the byte")
    func invalidEscapeByte() {
        #expect(
            refusal(AMQPBasicProperties(), "[[\"\\é\"]]")?.message
                == #"body: invalid JSON: invalid escape: '\' before byte 0xC3 at line 1, column 4"#)
        #expect(
            refusal(AMQPBasicProperties(), "[[\"\\\u{7F}\"]]")?.message
                == #"body: invalid JSON: invalid escape: '\' before byte 0x7F at line 1, column 4"#)
        #expect(refusal(AMQPBasicProperties(), "[[\"\\q\"]]")?.message == #"body: invalid JSON: invalid escape '\q' at line 1, column 4"#)
    }

    @Test("a body that is a string with a DEL character is described escaped")
    func bodyStringEscaped() {
        #expect(
            refusal(AMQPBasicProperties(), "\"a\u{7F}\"")?.message
                == #"the body must be a JSON array [args, kwargs, embed] or an object of keyword arguments, got string "a\u007f""#)
    }

    @Test("argument keys and values a client sent are shown escaped when they do not fit")
    func argumentsEscaped() {
        let error = envelopeError { () throws(EnvelopeError) in
            try TaskArguments.decode([String: Date].self, args: [], kwargs: ["a\nb": "x\ty"])
        }
        #expect(error?.message == #"arguments do not fit Dictionary<String, Date>: 'a\nb': 'x\ty' is not an ISO-8601 time"#)
        let positional = envelopeError { () throws(EnvelopeError) in
            try TaskArguments.decode([Int].self, args: [1], kwargs: ["\u{1B}[31m": 1])
        }
        #expect(
            positional?.message
                == #"arguments do not fit Array<Int>: takes positional arguments only, but got keyword arguments '\u001b[31m'"#)
    }

    // MARK: - Config

    private func problems(_ yaml: String) -> [String] {
        do {
            _ = try ConfigLoader.load(yaml: yaml, source: "warren.yaml", environment: [:])
            Issue.record("accepted")
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test("a syntax error at the end of a file without a final line break names the last line, not the one after")
    func syntaxErrorAtEnd() {
        #expect(
            problems("queues:\n  q:\n    routes: [a")
                == [#"warren.yaml:3:15: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence, line 3 column 13)"#])
        #expect(
            problems("queues:\n  t)default:\n    routes: [\"#\"]\nq")
                == [#"warren.yaml:4:2: invalid YAML: could not find expected ':' (while scanning a simple key, line 4 column 1)"#])
    }

    @Test("an empty document after `---` is refused on a line the file has")
    func emptyDocumentAfterMarker() {
        #expect(
            problems("---\n# nothing else")
                == [#"warren.yaml:2:15: expected a mapping of keys (broker, queues, …) at the top of the file, got nothing"#])
    }

    @Test("a size whose unit holds a line break is shown escaped")
    func sizeUnitEscaped() {
        #expect(
            problems("queues: { q: {} }\nmax_message_size: \"16MiB\\n- b\"\n")
                == [
                    #"warren.yaml:2:19: max_message_size: expected a size like 512MiB or 2GiB, got "16MiB\n- b" (unknown unit "MiB\n- b"; use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)"#
                ])
    }
}
