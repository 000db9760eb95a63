import Foundation
import Logging
import Testing

@testable import Warren

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
        #expect(try Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(time).timeIntervalSinceNow > -60)
        let second = try JSONValue(parsing: Array(lines[1].utf8))
        #expect(second["message"] == "quote \" and\nnewline")
    }
}
