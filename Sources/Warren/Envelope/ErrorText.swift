/// How envelope errors show text that came in a message: control characters escaped and long
/// text cut, so that an error stays one readable line in the logs and in the dead letter's
/// `x-warren-error` header whatever a client sent. (Fuzzing found content types holding line
/// breaks and C1 control characters copied raw into error messages.)
enum ErrorText {
    /// How many characters of a value are shown before it is cut with `…`: 60.
    static let limit = 60

    /// `text` in double quotes as JSON writes it (quotes, backslashes and every control
    /// character escaped, U+007F–U+009F too), cut to `limit` characters.
    static func quoted(_ text: String, limit: Int = limit) -> String {
        let json = JSONValue.string(cut(text, limit)).jsonText  // escapes U+0000–U+001F
        return escapingControls(json)
    }

    /// `text` with every control character escaped (`\n`, `\u0085`), cut to `limit` characters.
    static func escaped(_ text: String, limit: Int = limit) -> String {
        escapingControls(cut(text, limit))
    }

    /// The most bytes of error text Warren writes back in a dead letter's `x-warren-error`, a
    /// log line or a reply: 4 KiB. A handler's error (or a client's value in it) can be any size;
    /// copied whole it made dead letters too large to publish and log lines of hundreds of KB.
    static let maxBytes = 4096

    /// `text` cut to at most `maxBytes` UTF-8 bytes (on a character boundary), with a marker saying
    /// how long it was: `… [cut: 200000 bytes in all]`. Text that fits is returned unchanged.
    static func bounded(_ text: String, maxBytes: Int = maxBytes) -> String {
        let total = text.utf8.count
        guard total > maxBytes else { return text }
        let marker = "… [cut: \(total) bytes in all]"
        let budget = max(0, maxBytes - marker.utf8.count)
        var used = 0
        var kept = Substring()
        for index in text.indices {
            let next = text.index(after: index)
            let size = text.utf8.distance(from: index, to: next)
            if used + size > budget { break }
            used += size
            kept = text[text.startIndex..<next]
        }
        return kept + marker
    }

    private static func cut(_ text: String, _ limit: Int) -> String {
        text.count > limit ? String(text.prefix(limit)) + "…" : text
    }

    private static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where isControl(scalar):
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control
    }
}
