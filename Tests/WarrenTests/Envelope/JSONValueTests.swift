import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("JSONValue parsing and serialization")
struct JSONValueTests {
    @Test func parsesCeleryBody() throws {
        let text = #"[[2, 2], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]"#
        let value = try JSONValue(parsing: text)
        #expect(value == [[2, 2], [:], ["callbacks": .null, "errbacks": .null, "chain": .null, "chord": .null]])
    }

    @Test func integersStayExact() throws {
        let value = try JSONValue(parsing: "[5, -0, 9223372036854775807, -9223372036854775808, 9223372036854775808, 5.0, 1e3]")
        #expect(
            value == [
                .int(5), .int(0), .int(.max), .int(.min), .double(9_223_372_036_854_775_808), .double(5), .double(1000),
            ])
    }

    @Test func keepsKeyOrderAndLastDuplicate() throws {
        let value = try JSONValue(parsing: #"{"b": 1, "a": 2, "b": 3}"#)
        #expect(value.objectValue?.keys == ["b", "a"])
        #expect(value["b"] == 3)
        #expect(value.jsonText == #"{"b":3,"a":2}"#)
    }

    @Test func objectEqualityIgnoresOrder() {
        let a: JSONValue = ["x": 1, "y": [true, .null]]
        let b: JSONValue = ["y": [true, .null], "x": 1]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a.jsonText != b.jsonText)
    }

    @Test func stringsAndEscapes() throws {
        let value = try JSONValue(parsing: #""a\"b\\c\/d\n\t\u00e9\ud83d\ude00 é""#)
        #expect(value == .string("a\"b\\c/d\n\té😀 é"))
        let back = try JSONValue(parsing: value.jsonText)
        #expect(back == value)
        #expect(JSONValue.string("\u{01}x").jsonText == #""\u0001x""#)
    }

    @Test func loneSurrogateBecomesReplacement() throws {
        #expect(try JSONValue(parsing: #""\ud800x""#) == .string("\u{FFFD}x"))
    }

    @Test func pythonNonFiniteFloats() throws {
        let value = try JSONValue(parsing: "[NaN, Infinity, -Infinity]")
        guard case .array(let items) = value, case .double(let nan) = items[0] else {
            Issue.record("not an array")
            return
        }
        #expect(nan.isNaN)
        #expect(items[1] == .double(.infinity))
        #expect(items[2] == .double(-.infinity))
        #expect(JSONValue.array([.double(.infinity), .double(-.infinity)]).jsonText == "[Infinity,-Infinity]")
    }

    @Test func doublesKeepAFraction() {
        #expect(JSONValue.double(5).jsonText == "5.0")
        #expect(JSONValue.double(0.1).jsonText == "0.1")
        #expect(JSONValue.int(5).jsonText == "5")
    }

    @Test(arguments: [
        ("", "expected a value, found the end of the text at line 1, column 1"),
        ("[1,]", "expected a value at line 1, column 4"),
        ("{\"a\" 1}", "expected ':' after an object key at line 1, column 6"),
        ("[1]\n x", "extra data after the JSON value at line 2, column 2"),
        ("01", "numbers must not have leading zeros at line 1, column 2"),
        ("\"abc", "unterminated string at line 1, column 1"),
        ("\"a\u{01}\"", "control character U+0001 in a string must be escaped at line 1, column 3"),
        ("{'a': 1}", "expected a string key at line 1, column 2"),
        (#""\x""#, #"invalid escape '\x' at line 1, column 2"#),
        ("tru", "expected a value at line 1, column 1"),
    ])
    func rejectsInvalidJSON(text: String, message: String) {
        #expect {
            try JSONValue(parsing: text)
        } throws: { error in
            guard let error = error as? EnvelopeError else { return false }
            return error.code == .invalidJSON && error.message == "invalid JSON: \(message)"
        }
    }

    @Test func rejectsInvalidUTF8InStrings() {
        #expect(throws: EnvelopeError.self) {
            try JSONValue(parsing: [UInt8(ascii: "\""), 0xC3, 0x28, UInt8(ascii: "\"")])
        }
    }

    @Test func depthLimit() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try JSONValue(parsing: ok)
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect {
            try JSONValue(parsing: deep)
        } throws: { error in
            (error as? EnvelopeError)?.message
                == "invalid JSON: arrays and objects nest deeper than the limit of 64 at line 1, column 65"
        }
        #expect(throws: EnvelopeError.self) { try JSONValue(parsing: #"{"a":{"b":[1]}}"#, maxDepth: 2) }
        _ = try JSONValue(parsing: #"{"a":{"b":1}}"#, maxDepth: 2)
    }

    @Test func skipsByteOrderMark() throws {
        #expect(try JSONValue(parsing: [0xEF, 0xBB, 0xBF] + Array("[1]".utf8)) == [1])
    }
}
