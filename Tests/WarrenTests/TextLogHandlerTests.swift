import Foundation
import Logging
import Testing

@testable import Warren

/// `log.format: text`: what journald and a person read.
@Suite("Text log lines")
struct TextLogHandlerTests {
    @Test("one line per event: time, level, logger, sorted metadata, source, message")
    func oneLinePerEvent() {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var handler = TextLogHandler(label: "warren-demo", descriptor: fds[1])
        handler.logLevel = .info
        handler[metadataKey: "queue"] = "latency"
        var logger = Logger(label: "warren-demo") { _ in handler }
        logger[metadataKey: "task.id"] = "abc"
        logger[metadataKey: "task.id"] = "def"  // set again: the last value counts
        logger.info("task succeeded", metadata: ["duration": "0.001s"])
        logger.debug("not logged at info")
        logger.error("failed", error: WorkerError("boom"))
        close(fds[1])
        let text = String(decoding: FileHandle(fileDescriptor: fds[0]).readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[2].isEmpty)  // two lines, each ended by a newline
        let first = String(lines[0])
        // 2026-11-21T14:03:07+0000 info warren-demo: duration=0.001s queue=latency task.id=def [Warren] task succeeded
        #expect(first.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} info warren-demo: duration=0\.001s queue=latency task\.id=def \[WarrenTests\] task succeeded/) != nil, "\(first)")
        #expect(lines[1].hasSuffix("error warren-demo: error=boom queue=latency task.id=def [WarrenTests] failed"), "\(lines[1])")
    }
}

@Suite("Line reader")
struct LineReaderTests {
    @Test("lines split across writes, longer than its buffer, and a last one cut short")
    func linesAcrossReads() {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let long = String(repeating: "x", count: 40_000)
        let writeEnd = fds[1]
        let writer = Thread {
            for chunk in ["F one\nF t", "wo\n", long + "\n", "\n", "cut"] {
                _ = chunk.utf8CString.withUnsafeBufferPointer { write(writeEnd, $0.baseAddress!, $0.count - 1) }
            }
            close(writeEnd)
        }
        writer.start()
        var lines: [String] = []
        LineReader.readLines(from: fds[0]) { lines.append(String(decoding: $0, as: UTF8.self)) }
        close(fds[0])
        #expect(lines == ["F one", "F two", long, ""])
    }
}
