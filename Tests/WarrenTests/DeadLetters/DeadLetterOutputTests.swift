import AMQP
import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Dead letters: list output")
struct DeadLetterOutputTests {
    let now = DeadLetterFixture.failedDate.addingTimeInterval(754)

    @Test("JSON: the fields, delivery, properties, every header decoded, a UTF-8 body as text")
    func jsonFields() throws {
        let letter = DeadLetter(delivery: DeadLetterFixture.delivery(headers: DeadLetterFixture.warrenHeaders, correlationID: "c"))
        let object = letter.jsonObject(now: now)
        #expect(object["reason"] == "max-retries")
        #expect(object["task"] == "demo.flaky")
        #expect(object["task_id"] == .string(CeleryFixture.taskID))
        #expect(object["attempts"] == 3)
        #expect(object["queue"] == "default")
        #expect(object["error"] == "demo.flaky failed on attempt 3, as asked")
        #expect(object["broker_reason"] == .null)
        #expect(object["last_failure"] == .string(DeadLetterFixture.failedAt))
        #expect(object["age_seconds"] == .double(754))
        #expect(object["body"] == "[[2, 3], {}, {}]")
        #expect(object["body_encoding"] == "utf-8")
        #expect(object["properties"]?.objectValue?["correlation_id"] == "c")
        let headers = try #require(object["headers"]?.objectValue)
        #expect(headers["retries"] == 2)
        #expect(headers["shadow"] == .null)
        #expect(headers["timelimit"] == [.null, .null])
        #expect(headers["x-warren-attempts"] == 3)
        let death = try #require(headers["x-death"]?.arrayValue?.first?.objectValue)
        #expect(death["time"] == "2025-03-01T10:00:04+00:00")
        #expect(death["routing-keys"] == ["default"])
        // One line, and JSON that reads back.
        let text = JSONValue.object(object).jsonText
        #expect(!text.contains("\n"))
        #expect(try JSONValue(parsing: text) == .object(object))
    }

    @Test("JSON: a body that is not UTF-8 is base64; bytes headers too")
    func binaryBody() {
        let letter = DeadLetter(delivery: DeadLetterFixture.delivery(headers: ["raw": .bytes([0xff, 0x00])], body: [0xff, 0xfe, 0x00]))
        let object = letter.jsonObject(now: now)
        #expect(object["body"] == "//4A")
        #expect(object["body_encoding"] == "base64")
        #expect(object["headers"]?.objectValue?["raw"] == "/wA=")
    }

    @Test("table: header, aligned columns, unknowns as '-', errors on one line (line breaks escaped) and cut")
    func table() {
        var headers = DeadLetterFixture.warrenHeaders
        headers["x-warren-error"] = .string("line one\nline two " + String(repeating: "x", count: 80))
        let failed = DeadLetter(delivery: DeadLetterFixture.delivery(headers: headers))
        let unrouted = DeadLetter(delivery: DeadLetterFixture.delivery(headers: nil, exchange: "warren", routingKey: "demo.nope"))
        let lines = DeadLetterTable.render([failed, unrouted], now: now)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("AGE  TASK        REASON       ATTEMPTS  QUEUE    ERROR"))
        #expect(lines[1].hasPrefix(#"12m  demo.flaky  max-retries  3         default  line one\nline two xxx"#))
        #expect(lines[1].contains("…  " + CeleryFixture.taskID))
        #expect(lines[2].hasPrefix("?    demo.nope   unrouted     -         -        -"))
        // Columns line up: ID starts at the same place on every line.
        let idColumn = lines[0].range(of: "ID")!.lowerBound.utf16Offset(in: lines[0])
        #expect(lines[1].utf16.count > idColumn)
    }

    @Test("table: a dead letter whose fields hold newlines, ESC, BEL and bidi overrides is one row, escaped, aligned")
    func hostileTable() {
        let delivery = DeadLetterFixture.delivery(headers: nil)
        let hostile = DeadLetter(
            delivery: delivery, reason: "failed\u{7}", task: "demo.x\n2026-01-01 info forged line\u{1b}[31m", taskID: "id\r\n\u{202e}1",
            attempts: 1, originalQueue: "q\u{1b}]0;t\u{7}", error: "boom\n\u{1b}[2Jcleared\u{9b}")
        let plain = DeadLetter(
            delivery: delivery, reason: "failed", task: "demo.ok", taskID: "id2", attempts: 1, originalQueue: "default", error: "ok")
        let lines = DeadLetterTable.render([hostile, plain], now: now)
        #expect(lines.count == 3)
        let text = lines.joined(separator: "\n")
        #expect(!text.unicodeScalars.contains { ErrorText.needsEscape($0) && $0 != "\n" }, "\(text)")
        #expect(
            lines[1].hasPrefix(
                #"?    demo.x\n2026-01-01 info forged line\u001b[31m  failed\u0007  1         q\u001b]0;t\u0007  boom\n\u001b[2Jcleared\u009b  id\r\n\u202e1"#
            ),
            "\(lines[1])")
        // Every column starts at the same place in every row: widths count the escapes as shown.
        let header = lines[0]
        let starts = DeadLetterTable.columns.dropFirst().map {
            header.distance(from: header.startIndex, to: header.range(of: $0)!.lowerBound)
        }
        for line in lines {
            let chars = Array(line)
            for start in starts {
                #expect(chars.count > start && String(chars[start - 2..<start]) == "  " && chars[start] != " ", "\(lines)")
            }
        }
    }

    @Test("table: an emoji or accented name does not shift or cut the columns")
    func wideNames() {
        let delivery = DeadLetterFixture.delivery(headers: nil)
        let letters = ["demo.🙂", "demo.e\u{301}", "demo.plain"].map {
            DeadLetter(delivery: delivery, reason: "failed", task: $0, taskID: "id", attempts: 1, originalQueue: "default", error: "x")
        }
        let lines = DeadLetterTable.render(letters, now: now)
        #expect(lines[1].hasPrefix("?    demo.🙂      failed  1         default  x      id"), "\(lines[1])")
        #expect(lines[2].hasPrefix("?    demo.e\u{301}      failed  1  "), "\(lines[2])")
        #expect(lines[3].hasPrefix("?    demo.plain  failed  1  "), "\(lines[3])")
    }

    @Test(
        "ages in their largest unit",
        arguments: [(0, "0s"), (59, "59s"), (60, "1m"), (3599, "59m"), (3600, "1h"), (86_399, "23h"), (86_400, "1d"), (-5, "0s")])
    func ages(seconds: Int64, text: String) {
        #expect(DeadLetterTable.ageText(.seconds(seconds)) == text)
    }
}
