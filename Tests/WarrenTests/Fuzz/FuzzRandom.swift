import AMQP
import Foundation
import Testing
import Warren

/// The small random choices the fuzz generators are built from, on any random number generator
/// (PropertyBased hands its seeded one to `Generator(run:)`, so a failure names a seed that
/// reproduces it).
extension RandomNumberGenerator {
    /// A number in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// `true` with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }

    /// One of `choices`.
    mutating func pick<T>(_ choices: [T]) -> T { choices[int(0...choices.count - 1)] }

    /// `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }

    /// Text of up to `maxLength` scalars, mostly ASCII, with the characters that break parsers
    /// and printers: quotes, backslashes, control characters, non-BMP scalars, combining marks.
    mutating func text(maxLength: Int = 12) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<int(0...maxLength) {
            let scalar: Unicode.Scalar
            switch int(0...9) {
            case 0...5: scalar = Unicode.Scalar(UInt8(int(0x20...0x7E)))
            case 6: scalar = pick(["\"", "\\", "'", "\n", "\t", "\r", "\u{0}", "\u{7F}", "\u{1B}", ":", "#", "-"])
            case 7: scalar = Unicode.Scalar(UInt32(int(0x80...0xD7FF)))!
            case 8: scalar = pick(["é", "\u{301}", "\u{FEFF}", "\u{2028}", "\u{FFFD}", "\u{10FFFF}", "😀", "\u{85}"])
            default: scalar = Unicode.Scalar(UInt32(int(0x10000...0x10FFFF)))!
            }
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// A non-empty identifier-like text, such as a task name or id.
    mutating func word() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789._-")
        return String((0..<int(1...16)).map { _ in pick(alphabet) })
    }

    /// Any `Double` but NaN (NaN is never equal to itself, so round trips could not compare it):
    /// every bit pattern, so subnormals, ±0 and ±infinity too, and some small round numbers.
    mutating func double() -> Double {
        if chance(0.3) { return Double(int(-1000...1000)) / pick([1, 2, 10, 1000]) }
        while true {
            let value = Double(bitPattern: UInt64.random(in: .min ... .max, using: &self))
            if !value.isNaN { return value }
        }
    }

    /// A JSON value nested at most `depth` levels, with exact 64-bit integers, every double but
    /// NaN, and text with escapes and non-ASCII.
    mutating func json(depth: Int = 3) -> JSONValue {
        switch int(0...(depth > 0 ? 7 : 5)) {
        case 0: return .null
        case 1: return .bool(chance(0.5))
        case 2: return .int(chance(0.5) ? Int64(int(-100...100)) : Int64.random(in: .min ... .max, using: &self))
        case 3: return .double(double())
        case 4, 5: return .string(text())
        case 6: return .array((0..<int(0...4)).map { _ in json(depth: depth - 1) })
        default: return .object(jsonObject(depth: depth - 1))
        }
    }

    /// A JSON object of up to four members (keys may repeat: the last value wins).
    mutating func jsonObject(depth: Int = 2) -> JSONObject {
        JSONObject((0..<int(0...4)).map { _ in (chance(0.7) ? word() : text(maxLength: 6), json(depth: depth)) })
    }

    /// An AMQP header value of any kind, nested at most `depth` levels.
    mutating func amqpValue(depth: Int = 2) -> AMQPValue {
        switch int(0...(depth > 0 ? 17 : 15)) {
        case 0: return .bool(chance(0.5))
        case 1: return .int8(Int8.random(in: .min ... .max, using: &self))
        case 2: return .uint8(UInt8.random(in: .min ... .max, using: &self))
        case 3: return .int16(Int16.random(in: .min ... .max, using: &self))
        case 4: return .uint16(UInt16.random(in: .min ... .max, using: &self))
        case 5: return .int32(chance(0.5) ? Int32(int(-3...3)) : Int32.random(in: .min ... .max, using: &self))
        case 6: return .uint32(UInt32.random(in: .min ... .max, using: &self))
        case 7: return .int64(Int64.random(in: .min ... .max, using: &self))
        case 8: return .uint64(UInt64.random(in: .min ... .max, using: &self))
        case 9: return .float(Float(bitPattern: UInt32.random(in: .min ... .max, using: &self)))
        case 10: return .double(Double(bitPattern: UInt64.random(in: .min ... .max, using: &self)))
        case 11:
            return .decimal(scale: UInt8.random(in: .min ... .max, using: &self), value: UInt32.random(in: .min ... .max, using: &self))
        case 12: return .string(chance(0.5) ? text() : isoTimeLike())
        case 13: return .bytes(bytes(int(0...8)))
        case 14: return .timestamp(chance(0.5) ? UInt64(int(0...4_000_000_000)) : UInt64.random(in: .min ... .max, using: &self))
        case 15: return .void
        case 16: return .array((0..<int(0...4)).map { _ in amqpValue(depth: depth - 1) })
        default: return .table(AMQPTable((0..<int(0...3)).map { _ in (word(), amqpValue(depth: depth - 1)) }))
        }
    }

    /// Text that looks like Celery's ISO-8601 times, often slightly wrong.
    mutating func isoTimeLike() -> String {
        var text = pick([
            "2025-01-01T12:00:00+00:00", "2025-02-29T00:00:00", "20250101T1200", "2025-01-01 24:00:00Z",
            "0001-01-01T00:00:00.000001", "9999-12-31T23:59:59.999999-23:59", "2025-13-01", "2025-01-01T12:00:00,5+05:30:15",
            "2024-02-29T23:59:60", "", "None",
        ])
        if chance(0.5), !text.isEmpty {
            var scalars = Array(text.unicodeScalars)
            scalars[int(0...scalars.count - 1)] = pick(["9", "0", "-", ":", "T", "+", ".", "x", "\u{0}"])
            if chance(0.3) { scalars.removeLast(int(0...scalars.count)) }
            text = String(String.UnicodeScalarView(scalars))
        }
        return text
    }
}

/// How many inputs each fuzz test tries: its default (a few seconds in a debug build), times
/// `WARREN_FUZZ_SCALE` when that is set, for a longer campaign:
/// `WARREN_FUZZ_SCALE=50 swift test --disable-xctest --filter Fuzz`.
func fuzzIterations(_ base: Int) -> Int {
    base * fuzzScale
}

/// `WARREN_FUZZ_SCALE`, at least 1.
let fuzzScale = max(1, ProcessInfo.processInfo.environment["WARREN_FUZZ_SCALE"].flatMap { Int($0) } ?? 1)

/// A fuzz suite's time limit, which turns a hang into a failure: a minute per unit of
/// `WARREN_FUZZ_SCALE` (each test takes a few seconds at scale 1).
let fuzzTimeLimit = TimeLimitTrait.Duration.minutes(fuzzScale)
