extension JSONValue {
    /// The nesting limit of ``init(parsing:maxDepth:)`` unless told otherwise: 64 arrays or objects.
    public static let defaultMaxDepth = 64

    /// Parses UTF-8 JSON text (RFC 8259, plus `NaN`, `Infinity` and `-Infinity`, which Python's
    /// `json` writes for non-finite floats).
    ///
    /// Integers without fraction or exponent that fit in `Int64` become ``int(_:)``; every other
    /// number becomes ``double(_:)``. A repeated object key keeps its last value. A leading UTF-8
    /// byte-order mark is skipped.
    /// - Parameters:
    ///   - bytes: The JSON text as UTF-8.
    ///   - maxDepth: How many arrays and objects may nest inside each other; defaults to
    ///     ``defaultMaxDepth``.
    /// - Throws: ``EnvelopeError`` with code ``EnvelopeError/Code/invalidJSON``, whose message
    ///   gives the line and column of the first problem.
    public init(parsing bytes: [UInt8], maxDepth: Int = JSONValue.defaultMaxDepth) throws(EnvelopeError) {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        self = try parser.parseDocument()
    }

    /// Parses JSON text; see ``init(parsing:maxDepth:)-([UInt8],_)``.
    /// - Throws: ``EnvelopeError`` with code ``EnvelopeError/Code/invalidJSON``.
    public init(parsing text: String, maxDepth: Int = JSONValue.defaultMaxDepth) throws(EnvelopeError) {
        try self.init(parsing: Array(text.utf8), maxDepth: maxDepth)
    }
}

/// A recursive-descent JSON parser over a byte array, with a nesting limit and exact integers.
struct JSONParser {
    private let bytes: [UInt8]
    private let maxDepth: Int
    private var position = 0

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws(EnvelopeError) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if position < bytes.count { throw failure("extra data after the JSON value") }
        return value
    }

    // MARK: - Values

    private mutating func parseValue(depth: Int) throws(EnvelopeError) -> JSONValue {
        guard position < bytes.count else { throw failure("expected a value, found the end of the text") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "N"): try expectLiteral("NaN"); return .double(.nan)
        case UInt8(ascii: "I"): try expectLiteral("Infinity"); return .double(.infinity)
        case UInt8(ascii: "-") where peek(1) == UInt8(ascii: "I"):
            position += 1
            try expectLiteral("Infinity")
            return .double(-.infinity)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("expected a value")
        }
    }

    private mutating func parseObject(depth: Int) throws(EnvelopeError) -> JSONValue {
        try checkDepth(depth)
        position += 1  // {
        var object = JSONObject()
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw failure("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw failure("expected ':' after an object key") }
            position += 1
            skipWhitespace()
            object[key] = try parseValue(depth: depth)
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return .object(object)
            default: throw failure("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(EnvelopeError) -> JSONValue {
        try checkDepth(depth)
        position += 1  // [
        var array: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return .array(array)
        }
        while true {
            skipWhitespace()
            array.append(try parseValue(depth: depth))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return .array(array)
            default: throw failure("expected ',' or ']' in an array")
            }
        }
    }

    private func checkDepth(_ depth: Int) throws(EnvelopeError) {
        if depth > maxDepth {
            throw failure("arrays and objects nest deeper than the limit of \(maxDepth)")
        }
    }

    // MARK: - Strings

    private mutating func parseString() throws(EnvelopeError) -> String {
        let start = position
        position += 1  // opening quote
        var utf8: [UInt8] = []
        var runStart = position
        while true {
            guard position < bytes.count else {
                position = start
                throw failure("unterminated string")
            }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                utf8.append(contentsOf: bytes[runStart..<position])
                position += 1
                break
            } else if byte == UInt8(ascii: "\\") {
                utf8.append(contentsOf: bytes[runStart..<position])
                try parseEscape(into: &utf8)
                runStart = position
            } else if byte < 0x20 {
                throw failure("control character U+\(hex4(UInt16(byte))) in a string must be escaped")
            } else {
                position += 1
            }
        }
        guard let string = String(validating: utf8, as: UTF8.self) else {
            position = start
            throw failure("string is not valid UTF-8")
        }
        return string
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(EnvelopeError) {
        position += 1  // backslash
        guard position < bytes.count else { throw failure("unterminated escape") }
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try parseHex4())
            if (0xD800...0xDBFF).contains(scalar), peek() == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "u") {
                let save = position
                position += 2
                let low = UInt32(try parseHex4())
                if (0xDC00...0xDFFF).contains(low) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    position = save  // a lone high surrogate, then another escape
                }
            }
            // Python's json accepts lone surrogates; they have no UTF-8 form, so they become U+FFFD.
            let unicode = Unicode.Scalar(scalar) ?? "\u{FFFD}"
            utf8.append(contentsOf: String(Character(unicode)).utf8)
        default:
            position -= 2
            // Any byte can follow the backslash: show it as a character only when it is a
            // printable ASCII one (a raw control byte or part of a UTF-8 sequence would not be).
            if (0x21...0x7E).contains(byte) {
                throw failure("invalid escape '\\\(Character(Unicode.Scalar(byte)))'")
            }
            throw failure("invalid escape: '\\' before byte 0x\(String(byte, radix: 16, uppercase: true))")
        }
    }

    private mutating func parseHex4() throws(EnvelopeError) -> UInt16 {
        guard position + 4 <= bytes.count else { throw failure("expected four hex digits after \\u") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("expected four hex digits after \\u")
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(EnvelopeError) -> JSONValue {
        let start = position
        var isInteger = true
        if peek() == UInt8(ascii: "-") { position += 1 }
        if peek() == UInt8(ascii: "0") {
            position += 1
            if let next = peek(), isDigit(next) { throw failure("numbers must not have leading zeros") }
        } else if let next = peek(), isDigit(next) {
            skipDigits()
        } else {
            throw failure("expected a digit")
        }
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard let next = peek(), isDigit(next) else { throw failure("expected a digit after '.'") }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let next = peek(), isDigit(next) else { throw failure("expected a digit in the exponent") }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let int = Int64(text) { return .int(int) }
        guard let double = Double(text) else {
            position = start
            throw failure("unreadable number")
        }
        return .double(double)
    }

    private func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { position += 1 }
    }

    // MARK: - Helpers

    private func peek(_ offset: Int = 0) -> UInt8? {
        position + offset < bytes.count ? bytes[position + offset] : nil
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(EnvelopeError) {
        let count = literal.utf8CodeUnitCount
        let matches = literal.withUTF8Buffer { expected in
            position + count <= bytes.count && bytes[position..<position + count].elementsEqual(expected)
        }
        guard matches else { throw failure("expected a value") }
        position += count
    }

    private func failure(_ what: String) -> EnvelopeError {
        var line = 1
        var column = 1
        for byte in bytes[..<min(position, bytes.count)] {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return EnvelopeError(.invalidJSON, "invalid JSON: \(what) at line \(line), column \(column)")
    }

    private func hex4(_ value: UInt16) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}
