import Foundation
import Logging
import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// `log.format: json`: what a log shipper reads.
@Suite("JSON log lines")
struct JSONLogHandlerTests {
    @Test("one JSON object per line with time, level, logger, message and the metadata beside them")
    func oneObjectPerLine() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var handler = JSONLogHandler(label: "warren-demo", descriptor: fds[1])
        handler.logLevel = .info
        handler[metadataKey: "queue"] = "latency"
        var logger = Logger(label: "warren-demo") { _ in handler }
        logger[metadataKey: "task.id"] = "abc"
        logger.info("task succeeded", metadata: ["duration": "0.001s", "message": "clash", "nested": ["a": ["1", "2"]]])
        logger.debug("not logged at info")
        logger.warning("quote \" and\nnewline")
        close(fds[1])
        let text = String(decoding: FileHandle(fileDescriptor: fds[0]).readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2)
        let first = try JSONValue(parsing: Array(lines[0].utf8))
        #expect(first["level"] == "info")
        #expect(first["logger"] == "warren-demo")
        #expect(first["message"] == "task succeeded")
        #expect(first["queue"] == "latency")
        #expect(first["task.id"] == "abc")
        #expect(first["duration"] == "0.001s")
        #expect(first["meta.message"] == "clash")  // a metadata key never hides a fixed one
        #expect(first["nested"] == ["a": ["1", "2"]])
        let time = try #require(first["time"]?.stringValue)
        #expect(try #require(CeleryTime.parse(time)).timeIntervalSinceNow > -60)  // ISO 8601, UTC, as Celery writes it
        let second = try JSONValue(parsing: Array(lines[1].utf8))
        #expect(second["message"] == "quote \" and\nnewline")
    }

    @Test("text from a message: one line, each string cut at 4 KiB with the text format's marker")
    func bounded() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let handler = JSONLogHandler(label: "warren-demo", descriptor: fds[1])
        let logger = Logger(label: "warren-demo") { _ in handler }
        let huge = String(repeating: "e", count: 100_000)
        logger.error("\(huge)", metadata: ["task.name": "demo.x\n\u{1b}[31mforged", "error": "\(huge)", "nested": ["\(huge)"]])
        close(fds[1])
        let text = String(decoding: FileHandle(fileDescriptor: fds[0]).readDataToEndOfFile(), as: UTF8.self)
        #expect(text.filter { $0 == "\n" }.count == 1 && !text.contains("\u{1b}"))
        let object = try JSONValue(parsing: Array(text.utf8))
        #expect(object["task.name"] == "demo.x\n\u{1b}[31mforged")
        for value in [object["message"], object["error"], object["nested"]?.arrayValue?.first] {
            let string = try #require(value?.stringValue)
            #expect(string.utf8.count <= ErrorText.maxBytes && string.hasSuffix("… [cut: 100000 bytes in all]"))
        }
    }
}
