/// How Warren shows text that came in a message (a task's name, id, error text, a header's value)
/// when it writes it back: in an error message, a dead letter's `x-warren-error`, a log line or a
/// CLI table. Anyone who can publish on the vhost chooses that text, so it is escaped and bounded:
/// one readable line whatever a client sent. (Fuzzing found content types holding line breaks
/// and C1 control characters copied raw into error messages; a task name holding `\n` forged log
/// lines, and ESC reached the terminal.)
///
/// The escapes, one convention everywhere: `\n`, `\r` and `\t`; every other character that
/// ``needsEscape(_:)`` (C0 and C1 controls, DEL, U+2028/U+2029, bidi marks, embeddings, overrides
/// and isolates) as `\u` and four lowercase hex digits, as JSON writes them: ESC is `\u001b`, BEL
/// `\u0007`, RIGHT-TO-LEFT OVERRIDE `\u202e`. A backslash already in the text is left as it is,
/// except in a quoted value (`quoting`), where `\` and `"` are escaped as `\\` and `\"`.
package enum ErrorText {
    /// How many characters of a value are shown before it is cut with `…`: 60.
    static let limit = 60

    /// `text` in double quotes as JSON writes it (quotes, backslashes and every control
    /// character escaped, U+007F–U+009F too), cut to `limit` characters.
    package static func quoted(_ text: String, limit: Int = limit) -> String {
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
    package static let maxBytes = 4096

    /// `text` cut to at most `maxBytes` UTF-8 bytes (on a character boundary), with a marker saying
    /// how long it was: `… [cut: 200000 bytes in all]`. Text that fits is returned unchanged.
    package static func bounded(_ text: String, maxBytes: Int = maxBytes) -> String {
        let total = text.utf8.count
        guard total > maxBytes else { return text }
        let marker = cutMarker(total)
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

    /// `text` as a log line or a CLI shows it: escaped (see ``ErrorText``), then cut to at most
    /// `maxBytes` UTF-8 bytes with the marker of ``bounded(_:maxBytes:)`` (an escape is never cut
    /// in two). With `quoting`, `\` and `"` are escaped too, for a value written in double quotes.
    /// Printable text that fits comes back as it is, after one pass over its bytes.
    package static func loggable(_ text: String, maxBytes: Int = maxBytes, quoting: Bool = false) -> String {
        let total = text.utf8.count
        if total <= maxBytes, isPlain(text, quoting: quoting) { return text }
        var result = ""
        if appendEscaped(text, to: &result, budget: maxBytes, quoting: quoting) { return result }
        let marker = cutMarker(total)
        result = ""
        _ = appendEscaped(text, to: &result, budget: max(0, maxBytes - marker.utf8.count), quoting: quoting)
        return result + marker
    }

    /// `text` as one cell of a CLI table: escaped, at most `width` characters (what a terminal
    /// shows, escapes included), cut with `…`. The text is cut before it is escaped, so a huge
    /// value costs no more than a short one.
    package static func cell(_ text: String, width: Int) -> String {
        let shown = escaped(text, limit: width)
        guard shown.count > width else { return shown }
        return String(shown.prefix(max(0, width - 1))) + "…"
    }

    /// Whether Warren escapes `scalar` when it writes text from a message back: C0 controls, DEL,
    /// C1 controls (a terminal acts on them, or they break a line); the line and paragraph
    /// separators U+2028/U+2029; the bidi marks, embeddings, overrides and isolates (U+061C,
    /// U+200E/U+200F, U+202A–U+202E, U+2066–U+2069), which reorder what a reader sees.
    package static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20..<0x7F: false
        case 0..<0x20, 0x7F..<0xA0: true
        case 0x2028, 0x2029: true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    private static func cutMarker(_ total: Int) -> String { "… [cut: \(total) bytes in all]" }

    private static func cut(_ text: String, _ limit: Int) -> String {
        guard let end = text.index(text.startIndex, offsetBy: limit, limitedBy: text.endIndex), end < text.endIndex else { return text }
        return String(text[..<end]) + "…"
    }

    private static func escapingControls(_ text: String) -> String {
        if isPlain(text, quoting: false) { return text }
        var result = ""
        _ = appendEscaped(text, to: &result, budget: .max, quoting: false)
        return result
    }

    /// True when nothing in `text` is escaped: printable ASCII is checked byte by byte, the rest
    /// scalar by scalar.
    private static func isPlain(_ text: String, quoting: Bool) -> Bool {
        let ascii = text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && !(quoting && ($0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\"))) }
        return ascii || !text.unicodeScalars.contains { needsEscape($0) || (quoting && ($0 == "\"" || $0 == "\\")) }
    }

    /// Appends `text`, escaped, to `result` while it fits in `budget` UTF-8 bytes; whether all of
    /// it went in. An escape goes in whole or not at all.
    private static func appendEscaped(_ text: String, to result: inout String, budget: Int, quoting: Bool) -> Bool {
        var used = 0
        for scalar in text.unicodeScalars {
            let escape: String? =
                switch scalar {
                case "\n": "\\n"
                case "\r": "\\r"
                case "\t": "\\t"
                case "\"" where quoting: "\\\""
                case "\\" where quoting: "\\\\"
                case _ where needsEscape(scalar):
                    "\\u" + String(repeating: "0", count: max(0, 4 - String(scalar.value, radix: 16).count))
                        + String(scalar.value, radix: 16)
                default: nil
                }
            let size = escape?.utf8.count ?? UTF8.width(scalar)
            if size > budget - used { return false }
            used += size
            if let escape { result += escape } else { result.unicodeScalars.append(scalar) }
        }
        return true
    }
}
