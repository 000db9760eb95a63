import Foundation
import Logging
import WarrenCore

/// `log.format: json`: one JSON object per event on standard error, for log shippers.
///
/// `{"time":"2026-11-21T13:41:52.123Z","level":"info","logger":"warren-demo","message":"task
/// succeeded","task.id":"…","task.name":"demo.add","queue":"latency","duration":"0.001s",…}`:
/// the metadata's keys sit beside the fixed ones (a key named like one of them is prefixed
/// with `meta.`). Nested metadata becomes nested JSON. JSON escapes the control characters; each
/// string (the message, a key, a value) is cut at 4 KiB as ``ErrorText/bounded(_:maxBytes:)``
/// does, like the text format's values.
package struct JSONLogHandler: LogHandler {
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
        var object: JSONObject = [
            "time": .string(CeleryTime.format(Date())), "level": .string(event.level.rawValue), "logger": .string(label),
            "message": .string(ErrorText.bounded(event.message.description)),
        ]
        if let error = event.error { object["error"] = .string(ErrorText.bounded("\(error)")) }
        let merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            let key = ErrorText.bounded(key, maxBytes: 256)
            object[object[key] == nil ? key : "meta.\(key)"] = Self.json(value)
        }
        var text = JSONValue.object(object).jsonText
        text.append("\n")
        LogLine.write(text, to: descriptor)
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s): .string(ErrorText.bounded(s))
        case .stringConvertible(let c): .string(ErrorText.bounded(c.description))
        case .array(let values): .array(values.map(json))
        case .dictionary(let values):
            .object(JSONObject(values.sorted { $0.key < $1.key }.map { (ErrorText.bounded($0.key, maxBytes: 256), json($0.value)) }))
        }
    }
}
