/// One value of an AMQP field table or field array, as librabbitmq knows them.
///
/// Every field kind of AMQP 0-9-1 (with RabbitMQ's errata) has its own case, so a table read from
/// the wire and written back keeps each value's exact type: `.int32(5)` and `.int64(5)` stay
/// distinct. Long strings (`S`) decode to ``string(_:)`` when they are valid UTF-8, otherwise to
/// ``bytes(_:)``.
public enum AMQPValue: Sendable, Hashable {
    /// `t`: a boolean.
    case bool(Bool)
    /// `b`: a signed 8-bit integer.
    case int8(Int8)
    /// `B`: an unsigned 8-bit integer.
    case uint8(UInt8)
    /// `s`: a signed 16-bit integer.
    case int16(Int16)
    /// `u`: an unsigned 16-bit integer.
    case uint16(UInt16)
    /// `I`: a signed 32-bit integer.
    case int32(Int32)
    /// `i`: an unsigned 32-bit integer.
    case uint32(UInt32)
    /// `l`: a signed 64-bit integer.
    case int64(Int64)
    /// `L`: an unsigned 64-bit integer (not accepted by every broker).
    case uint64(UInt64)
    /// `f`: a 32-bit float.
    case float(Float)
    /// `d`: a 64-bit float.
    case double(Double)
    /// `D`: a decimal, `value` × 10^-`scale`.
    case decimal(scale: UInt8, value: UInt32)
    /// `S`: a long string holding UTF-8 text.
    case string(String)
    /// `x`: raw bytes.
    case bytes([UInt8])
    /// `T`: a timestamp in whole seconds since the Unix epoch.
    case timestamp(UInt64)
    /// `F`: a nested field table.
    case table(AMQPTable)
    /// `A`: a field array.
    case array([AMQPValue])
    /// `V`: no value (Python clients send `None` this way).
    case void
}

extension AMQPValue {
    /// The value as a Swift `Int` when it is any integer kind that fits, else `nil`.
    public var intValue: Int? {
        switch self {
        case .int8(let v): Int(v)
        case .uint8(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int64(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .timestamp(let v): Int(exactly: v)
        default: nil
        }
    }

    /// The text of a ``string(_:)`` value (or of ``bytes(_:)`` holding valid UTF-8), else `nil`.
    public var stringValue: String? {
        switch self {
        case .string(let s): s
        case .bytes(let b): String(validating: b, as: UTF8.self)
        default: nil
        }
    }

    /// The value as a `Double` when it is a float or any integer kind, else `nil`.
    public var doubleValue: Double? {
        switch self {
        case .double(let v): v
        case .float(let v): Double(v)
        case .decimal(let scale, let value):
            Double(value) / pow10(scale)
        default: intValue.map(Double.init)
        }
    }

    /// The elements of an ``array(_:)`` value, else `nil`.
    public var arrayValue: [AMQPValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The table of a ``table(_:)`` value, else `nil`.
    public var tableValue: AMQPTable? {
        if case .table(let t) = self { return t }
        return nil
    }

    /// `true` for ``void``.
    public var isVoid: Bool {
        if case .void = self { return true }
        return false
    }
}

private func pow10(_ n: UInt8) -> Double {
    var r = 1.0
    for _ in 0..<n { r *= 10 }
    return r
}

extension AMQPValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral
{
    /// A string literal is a long string (`S`).
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer literal is a signed 64-bit integer (`l`), the kind Python clients use for `int`.
    public init(integerLiteral value: Int64) { self = .int64(value) }
    /// A boolean literal is `t`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// A float literal is a double (`d`).
    public init(floatLiteral value: Double) { self = .double(value) }
    /// An array literal is a field array (`A`).
    public init(arrayLiteral elements: AMQPValue...) { self = .array(elements) }
    /// `nil` is void (`V`).
    public init(nilLiteral: ()) { self = .void }
}
