import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// How text from a message is written back (issue 12, log injection): one escaping convention,
/// one bound, for error messages, log lines and CLI tables.
@Suite("Escaping text from messages")
struct ErrorTextEscapingTests {
    @Test("printable text comes back as it is, the same string")
    func plain() {
        for text in ["demo.add", "", "café ünïcode 日本語 🙂", "a b=c \"d\" \\e"] {
            #expect(ErrorText.loggable(text) == text)
        }
        #expect(ErrorText.loggable("a \"b\" \\c", quoting: true) == #"a \"b\" \\c"#)
    }

    @Test("line breaks, ESC, BEL, DEL, C1, line separators and bidi overrides are visible escapes")
    func escapes() {
        #expect(ErrorText.loggable("a\nb\rc\td") == #"a\nb\rc\td"#)
        #expect(ErrorText.loggable("\u{1b}[31mred\u{7}") == #"\u001b[31mred\u0007"#)
        #expect(ErrorText.loggable("\u{0}\u{7f}\u{85}\u{9b}") == #"\u0000\u007f\u0085\u009b"#)
        #expect(ErrorText.loggable("x\u{2028}y\u{2029}z") == #"x\u2028y\u2029z"#)
        #expect(ErrorText.loggable("abc\u{202e}fed\u{2066}\u{200f}\u{61c}") == #"abc\u202efed\u2066\u200f\u061c"#)
        // Joiners and ordinary non-ASCII stay.
        #expect(ErrorText.loggable("👩\u{200d}💻 é") == "👩\u{200d}💻 é")
        // Error messages and table cells use the same escapes.
        #expect(ErrorText.escaped("a\n\u{1b}\u{202e}") == #"a\n\u001b\u202e"#)
        #expect(ErrorText.cell("a\n\u{1b}", width: 48) == #"a\n\u001b"#)
    }

    @Test("nothing a terminal acts on is left, whatever the scalar")
    func everyScalar() {
        var all = ""
        for value in UInt32(0)...0x3000 { if let scalar = Unicode.Scalar(value) { all.unicodeScalars.append(scalar) } }
        for shown in [
            ErrorText.loggable(all, maxBytes: 1 << 20), ErrorText.loggable(all, maxBytes: 1 << 20, quoting: true),
            ErrorText.escaped(all, limit: .max),
        ] {
            #expect(!shown.unicodeScalars.contains { ErrorText.needsEscape($0) })
            #expect(!shown.unicodeScalars.contains { $0.properties.generalCategory == .control })
        }
    }

    @Test("bounded to maxBytes with the cut marker; an escape is never cut in two")
    func bounded() {
        let long = String(repeating: "x", count: 10_000)
        let shown = ErrorText.loggable(long)
        #expect(shown.utf8.count <= ErrorText.maxBytes)
        #expect(shown.hasSuffix("… [cut: 10000 bytes in all]"))
        // Escapes count as what they are written as: 1,000 ESCs are 6,000 bytes shown.
        let escs = ErrorText.loggable(String(repeating: "\u{1b}", count: 1_000))
        #expect(escs.utf8.count <= ErrorText.maxBytes)
        #expect(escs.hasSuffix(#"\u001b… [cut: 1000 bytes in all]"#))
        #expect(ErrorText.loggable(String(repeating: "\u{1b}", count: 100), maxBytes: 600) == String(repeating: #"\u001b"#, count: 100))
        // The same marker as ErrorText.bounded.
        #expect(ErrorText.bounded(long).hasSuffix("… [cut: 10000 bytes in all]"))
    }

    @Test("a table cell: escaped, then cut to its width in characters shown")
    func cell() {
        let cell = ErrorText.cell(String(repeating: "\u{1b}", count: 100), width: 20)
        #expect(cell.count == 20 && cell.hasSuffix("…") && cell.hasPrefix(#"\u001b\u001b\u001b"#))
        #expect(ErrorText.cell(String(repeating: "y", count: 100_000), width: 10) == "yyyyyyyyy…")
        #expect(ErrorText.cell("short", width: 10) == "short")
    }
}
