import AMQP
import Foundation

/// Reads typed values out of a message's headers the way py-amqp writes them
/// (`amqp/serialization.py` `_write_item`): `str` as `S`, `bool` as `t`, `int` as `I` (signed
/// 32-bit) or, beyond ±2^31-1, as `L` holding a *signed* 64-bit value, `float` as `d`, `None`
/// as `V`, `list`/`tuple` as `A`, `dict` as `F`, `datetime` as `T`.
///
/// `V` (void) reads as absent. A value of the wrong kind throws ``EnvelopeError`` with code
/// ``EnvelopeError/Code/invalidHeader`` naming the header.
package struct HeaderReader {
    let headers: AMQPTable
    var taskName: String?
    var taskID: String?

    func value(_ key: String) -> AMQPValue? {
        guard let value = headers[key], !value.isVoid else { return nil }
        return value
    }

    func string(_ key: String) throws(EnvelopeError) -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value.stringValue else { throw wrongType(key, "a string", value) }
        return text
    }

    func int(_ key: String) throws(EnvelopeError) -> Int? {
        guard let value = value(key) else { return nil }
        if let int = Self.integer(value) { return int }
        throw wrongType(key, "an integer", value)
    }

    func bool(_ key: String) throws(EnvelopeError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let b) = value else { throw wrongType(key, "a boolean", value) }
        return b
    }

    /// An ISO-8601 text (empty text reads as absent, as Celery's `maybe_iso8601` does) or an
    /// AMQP timestamp.
    ///
    /// The time must lie within years 1 to 9999 in UTC, as Python's `datetime` does: Warren
    /// writes the time back in Celery's text when it retries the task or sends it to wait, and
    /// could not write a later one. (Fuzzing found `9999-12-31T23:59-23:59`, in the year 10000
    /// in UTC, and far timestamps, accepted but written back as nonsense.)
    func time(_ key: String) throws(EnvelopeError) -> Date? {
        guard let value = value(key) else { return nil }
        let date: Date
        if case .timestamp(let seconds) = value {
            date = Date(timeIntervalSince1970: Double(seconds))
        } else {
            guard let text = value.stringValue else { throw wrongType(key, "an ISO-8601 time string", value) }
            if text.isEmpty { return nil }
            guard let parsed = CeleryTime.parse(text) else {
                throw error("header '\(key)' is not an ISO-8601 time: \(Self.quote(text))")
            }
            date = parsed
        }
        guard CeleryTime.representable(date) else {
            throw error("header '\(key)' is out of range (years 1 to 9999 in UTC): \(Self.describe(value))")
        }
        return date
    }

    /// `timelimit`: `[hard, soft]` in seconds, each a number or `None`; 0 means no limit, as in
    /// Celery (which tests them for truth).
    func timeLimit() throws(EnvelopeError) -> TaskTimeLimit {
        let key = "timelimit"
        guard let value = value(key) else { return .none }
        guard case .array(let items) = value, items.count == 2 else {
            throw error("header 'timelimit' must be [hard, soft] in seconds, got \(Self.describe(value))")
        }
        var limits: [Duration?] = []
        for item in items {
            if item.isVoid {
                limits.append(nil)
                continue
            }
            let seconds: Double? =
                switch item {
                case .float, .double, .decimal: item.doubleValue
                default: Self.integer(item).map(Double.init)
                }
            // Up to ~31 700 years; beyond that (or negative, or not a number) it is a broken header.
            guard let seconds, seconds.isFinite, seconds >= 0, seconds <= 1e12 else {
                throw error("header 'timelimit' must be [hard, soft] in seconds, got \(Self.describe(value))")
            }
            // A positive limit under half a millisecond is 1 ms, not 0 ms: rounded to 0 it would
            // read back as "no limit" once the task is written out again. (Found by fuzzing.)
            limits.append(seconds == 0 ? nil : .milliseconds(max(1, Int64((seconds * 1000).rounded()))))
        }
        return TaskTimeLimit(hard: limits[0], soft: limits[1])
    }

    /// Any AMQP integer kind as an `Int`. py-amqp tags a signed 64-bit value with `L`, which
    /// librabbitmq reads as unsigned, so an unsigned 64-bit value above `Int64.max` is taken as
    /// the two's-complement negative py-amqp meant.
    package static func integer(_ value: AMQPValue) -> Int? {
        if case .uint64(let u) = value, u > UInt64(Int64.max) { return Int(Int64(bitPattern: u)) }
        if case .timestamp = value { return nil }
        return value.intValue
    }

    func wrongType(_ key: String, _ expected: String, _ value: AMQPValue) -> EnvelopeError {
        error("header '\(key)' must be \(expected), got \(Self.describe(value))")
    }

    func error(_ message: String) -> EnvelopeError {
        EnvelopeError(.invalidHeader, message, taskName: taskName, taskID: taskID)
    }

    static func quote(_ text: String) -> String {
        ErrorText.quoted(text)
    }

    /// A short description of an AMQP value: its kind and, for scalars, the value; an array
    /// shows its first elements, two levels deep at most.
    ///
    /// Bounded because a header can be anything a client sends: fuzzing found an array nested
    /// thousands deep turned into an error message of tens of kilobytes (and as deep a recursion).
    static func describe(_ value: AMQPValue, depth: Int = 2) -> String {
        switch value {
        case .bool(let b): return "boolean \(b)"
        case .int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64:
            return "integer \(integer(value).map(String.init) ?? "\(value)")"
        case .float(let f): return "number \(f)"
        case .double(let d): return "number \(JSONValue.format(d))"
        case .decimal: return "decimal \(value.doubleValue ?? 0)"
        case .string(let s): return "string \(quote(s))"
        case .bytes(let b): return "\(b.count) bytes that are not UTF-8 text"
        case .timestamp(let t): return "timestamp \(t)"
        case .table: return "a table"
        case .array(let a):
            guard depth > 0, !a.isEmpty else { return "an array of \(a.count)" }
            let shown = a.prefix(4).map { describe($0, depth: depth - 1) } + (a.count > 4 ? ["…"] : [])
            return "an array of \(a.count): [\(shown.joined(separator: ", "))]"
        case .void: return "None"
        }
    }
}
