import Foundation
import Logging
import WarrenCore

/// `log.format: text` (the default): one readable line per event on standard error, no colours
/// (journald keeps lines as they are).
///
/// `2026-11-21T14:03:07+0000 info warren-demo: child=1 queue=latency task.id=… [Warren] task
/// succeeded` — the layout of swift-log's `StreamLogHandler`, with one difference that matters
/// for throughput: metadata is formatted when a line is written, not each time a key is set.
/// A child sets a task's id, name and attempt on its logger for every task, and at the default
/// level most tasks log nothing below `info`; StreamLogHandler re-sorted and re-joined the whole
/// metadata on each set, which was a sixth of a child's CPU time per task.
///
/// Text from a message cannot forge a line or reach the terminal: the message and each metadata
/// key and value are escaped and bounded as ``ErrorText/loggable(_:maxBytes:quoting:)`` says
/// (`\n`, `\u001b`, cut at 4 KiB), and a value holding a space, `=`, `"` or `\` is written in double
/// quotes: `task.name="demo.x\n2026-01-01 info forged"`.
package struct TextLogHandler: LogHandler {
    package var logLevel: Logger.Level = .info
    package var metadata: Logger.Metadata = [:]
    private let label: String
    private let descriptor: Int32

    /// Writes to `descriptor` (standard error by default).
    package init(label: String, descriptor: Int32 = STDERR_FILENO) {
        self.label = label
        self.descriptor = descriptor
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        if let error = event.error { merged["error"] = "\(error)" }
        var line = Self.timestamp()
        line += " \(event.level) \(label):"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " "
            line += ErrorText.loggable(key, maxBytes: 256)
            line += "="
            Self.append(value: value.description, to: &line)
        }
        line += " [\(LogLine.source(event.source))] "
        line += ErrorText.loggable(event.message.description)
        line += "\n"
        LogLine.write(line, to: descriptor)
    }

    /// A metadata value as logfmt writes it: bare when it is printable and holds no space, `=`,
    /// `"` or `\`; otherwise in double quotes, with `\` and `"` escaped as well as the control
    /// characters (see ``ErrorText``), so that text from a message can neither end the line nor
    /// pass for another `key=value`. At most 4 KiB, cut with `… [cut: N bytes in all]`.
    static func append(value: String, to line: inout String) {
        if !value.isEmpty, value.utf8.count <= ErrorText.maxBytes, value.unicodeScalars.allSatisfy(isBare) {
            line += value
            return
        }
        line += "\""
        line += ErrorText.loggable(value, quoting: true)
        line += "\""
    }

    private static func isBare(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "=", "\"", "\\": false
        case "!"..."~": true
        case _ where scalar.isASCII: false  // space, controls, DEL
        default: !ErrorText.needsEscape(scalar) && !scalar.properties.isWhitespace
        }
    }

    /// Local time to the second with its offset, as StreamLogHandler writes it.
    private static func timestamp() -> String {
        // Not time(): glibc reads it from the coarse clock, up to a few ms behind, so a line
        // logged just after a whole second (a schedule's tick) showed the second before.
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME, &clock)
        var now = clock.tv_sec
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return "<unknown>" }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            let count = strftime(buffer.baseAddress!, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress, count: count), as: UTF8.self)
        }
    }
}

/// Writing one log line.
enum LogLine {
    /// Warren's own modules, whose lines all say `[Warren]`: the source tells an operator whether
    /// a line comes from Warren or from a handler's code, not which of Warren's layers wrote it.
    private static let warrensModules: Set<String> = ["Warren", "WarrenCore", "WarrenClient", "WarrenRuntime", "AMQP"]

    /// The source shown for a log event (swift-log's default is the module that logged).
    static func source(_ source: String) -> String {
        warrensModules.contains(source) ? "Warren" : source
    }

    /// Writes `text` with as few `write` calls as the kernel allows (one, for a line that fits a
    /// pipe's atomic size), so lines from several threads or processes do not interleave.
    static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { writeAll(UnsafeRawBufferPointer($0), to: descriptor) }
    }
}
