import Foundation
import Logging
import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

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
        #expect(
            first.wholeMatch(
                of:
                    /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} info warren-demo: duration=0\.001s queue=latency task\.id=def \[WarrenTests\] task succeeded/
            ) != nil, "\(first)")
        #expect(lines[1].hasSuffix("error warren-demo: error=boom queue=latency task.id=def [WarrenTests] failed"), "\(lines[1])")
    }

    @Test("lines from any of Warren's modules say [Warren]; a handler's module keeps its name")
    func warrensSource() {
        for module in ["Warren", "WarrenCore", "WarrenClient", "WarrenRuntime", "AMQP"] {
            #expect(LogLine.source(module) == "Warren")
        }
        #expect(LogLine.source("HelloWorker") == "HelloWorker")
        #expect(LogLine.source("WarrenRuntimeExtras") == "WarrenRuntimeExtras")
    }
}

/// Text from a message in a text log line (issue 12, log injection).
@Suite("Text log lines: text from messages")
struct TextLogEscapingTests {
    /// What `log` wrote through a TextLogHandler.
    func output(_ log: (Logger) -> Void) -> String {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let handler = TextLogHandler(label: "warren-demo", descriptor: fds[1])
        log(Logger(label: "warren-demo") { _ in handler })
        close(fds[1])
        return String(decoding: FileHandle(fileDescriptor: fds[0]).readDataToEndOfFile(), as: UTF8.self)
    }

    @Test("a task name holding a newline and a forged line is one line, quoted and escaped")
    func forgedLine() {
        let text = output { logger in
            var logger = logger
            logger[metadataKey: "task.name"] = "demo.x\n2026-01-01T00:00:00+0000 info forged line"
            logger.error("unknown task dead-lettered")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "\(text)")
        #expect(
            lines[0].hasSuffix(
                #" error warren-demo: task.name="demo.x\n2026-01-01T00:00:00+0000 info forged line" [WarrenTests] unknown task dead-lettered"#
            ), "\(text)")
    }

    @Test("ESC, BEL, C1 and bidi overrides never appear raw: not in values, keys, errors or the message")
    func controls() {
        let hostile = "\u{1b}[31mred\u{7}\u{9b}2J\u{202e}\r"
        let text = output { logger in
            logger.warning("message \(hostile)", error: WorkerError(hostile), metadata: ["task.id": "\(hostile)", "key\(hostile)": "v"])
        }
        #expect(text.hasSuffix("\n") && text.filter { $0 == "\n" }.count == 1, "\(text)")
        #expect(!text.dropLast().unicodeScalars.contains { ErrorText.needsEscape($0) }, "\(text)")
        #expect(text.contains(#"task.id="\u001b[31mred\u0007\u009b2J\u202e\r""#), "\(text)")
        #expect(text.contains(#"error="\u001b[31mred\u0007\u009b2J\u202e\r""#), "\(text)")
        #expect(text.hasSuffix(#" message \u001b[31mred\u0007\u009b2J\u202e\r"# + "\n"), "\(text)")
    }

    @Test("a value with a space, '=', a quote or a backslash is quoted, so it cannot pass for another key=value")
    func quoting() {
        let text = output { logger in
            logger.info(
                "m",
                metadata: [
                    "a": "x task.outcome=succeeded", "b": "k=v", "c": #"say "hi""#, "d": #"C:\dir"#, "e": "", "f": "plain-value_1.2/3:4",
                    "g": "non\u{a0}breaking", "h": "café",
                ])
        }
        #expect(text.contains(#" a="x task.outcome=succeeded" b="k=v" c="say \"hi\"" d="C:\\dir" e="" f=plain-value_1.2/3:4"#), "\(text)")
        #expect(text.contains(#" g="non"# + "\u{a0}" + #"breaking" h=café "#), "\(text)")
    }

    @Test("a value over 4 KiB is cut with its size; so is the message")
    func bounded() {
        let text = output { logger in
            logger.info("\(String(repeating: "m", count: 100_000))", metadata: ["error": "\(String(repeating: "e", count: 100_000))"])
        }
        #expect(text.utf8.count < 2 * ErrorText.maxBytes + 200)
        #expect(text.contains(#"… [cut: 100000 bytes in all]" ["#), "\(text.suffix(200))")
        #expect(text.hasSuffix("… [cut: 100000 bytes in all]\n"))
    }
}
