import Foundation
import Logging

/// `log.format: text` (the default): one readable line per event on standard error, no colours
/// (journald keeps lines as they are).
///
/// `2026-11-21T14:03:07+0000 info warren-demo: child=1 queue=latency task.id=… [Warren] task
/// succeeded` — the layout of swift-log's `StreamLogHandler`, with one difference that matters
/// for throughput: metadata is formatted when a line is written, not each time a key is set.
/// A child sets a task's id, name and attempt on its logger for every task, and at the default
/// level most tasks log nothing below `info`; StreamLogHandler re-sorted and re-joined the whole
/// metadata on each set, which was a sixth of a child's CPU time per task.
public struct TextLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let descriptor: Int32

    /// Writes to `descriptor` (standard error by default).
    public init(label: String, descriptor: Int32 = STDERR_FILENO) {
        self.label = label
        self.descriptor = descriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        if let error = event.error { merged["error"] = "\(error)" }
        var line = Self.timestamp()
        line += " \(event.level) \(label):"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        line += " [\(event.source)] \(event.message)\n"
        LogLine.write(line, to: descriptor)
    }

    /// Local time to the second with its offset, as StreamLogHandler writes it.
    private static func timestamp() -> String {
        var now = time(nil)
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
    /// Writes `text` with as few `write` calls as the kernel allows (one, for a line that fits a
    /// pipe's atomic size), so lines from several threads or processes do not interleave.
    static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { writeAll(UnsafeRawBufferPointer($0), to: descriptor) }
    }
}
