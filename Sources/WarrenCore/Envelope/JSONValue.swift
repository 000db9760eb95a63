/// A JSON value as Celery sends it: the arguments, keyword arguments and results of tasks.
///
/// Integers stay exact: `5` is ``int(_:)``, never a `Double`, and every `Int64` survives a round
/// trip. Numbers with a fraction or exponent, and integers outside `Int64`, are ``double(_:)``.
/// Objects keep their keys in the order they were written (Python dicts are ordered too); two
/// objects are equal when they hold the same keys and values in any order.
///
/// Read JSON with ``init(parsing:maxDepth:)`` and write it with ``serialized()`` or ``jsonText``.
/// Turn a value into a `Decodable` type with ``JSONValueDecoder`` and back with ``JSONValueEncoder``.
public enum JSONValue: Sendable, Hashable {
    /// `null` (Python `None`).
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer that fits in 64 bits, kept exact.
    case int(Int64)
    /// Any other number. `NaN` and `±Infinity` are allowed, as Python's `json` writes them.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, keys in order.
    case object(JSONObject)
}

extension JSONValue {
    /// `true` for ``null``.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value of ``bool(_:)``, else `nil`.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The value of ``int(_:)``, or of a ``double(_:)`` holding an integer exactly, else `nil`.
    public var int64Value: Int64? {
        switch self {
        case .int(let i): i
        case .double(let d): Int64(exactly: d)
        default: nil
        }
    }

    /// ``int64Value`` as an `Int`.
    public var intValue: Int? { int64Value.flatMap { Int(exactly: $0) } }

    /// Any number as a `Double`, else `nil`.
    public var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// The text of ``string(_:)``, else `nil`.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The elements of ``array(_:)``, else `nil`.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The object of ``object(_:)``, else `nil`.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The member `key` of an object, else `nil`.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// What kind of value this is, for error messages: `null`, `boolean`, `integer`, `number`,
    /// `string`, `array` or `object`.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// A string literal is ``string(_:)``.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer literal is ``int(_:)``.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A float literal is ``double(_:)``.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A boolean literal is ``bool(_:)``.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An array literal is ``array(_:)``.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// A dictionary literal is ``object(_:)``, keys in the order written.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The value as compact JSON text.
    public var description: String { jsonText }
}

extension JSONValue: Codable {
    /// Reads any JSON value from a decoder. With ``JSONValueDecoder`` nothing is lost; other
    /// decoders may turn objects into unordered dictionaries.
    public init(from decoder: any Decoder) throws {
        if let decoder = decoder as? JSONValueDecoder.Implementation {
            self = try decoder.rawValue()
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? container.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? container.decode(Double.self) {
            self = .double(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else if let o = try? container.decode([String: JSONValue].self) {
            self = .object(JSONObject(o.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    /// Writes the value to an encoder.
    public func encode(to encoder: any Encoder) throws {
        if let encoder = encoder as? JSONValueEncoder.Implementation {
            encoder.storeRaw(self)
            return
        }
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .int(let i):
            var c = encoder.singleValueContainer()
            try c.encode(i)
        case .double(let d):
            var c = encoder.singleValueContainer()
            try c.encode(d)
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .array(let a):
            var c = encoder.unkeyedContainer()
            for element in a { try c.encode(element) }
        case .object(let o):
            var c = encoder.container(keyedBy: JSONKey.self)
            for (key, value) in o { try c.encode(value, forKey: JSONKey(key)) }
        }
    }
}

/// A coding key for any string or index.
struct JSONKey: CodingKey, Sendable {
    var stringValue: String
    var intValue: Int?

    init(_ string: String) {
        stringValue = string
        intValue = nil
    }

    init(index: Int) {
        stringValue = "Index \(index)"
        intValue = index
    }

    init?(stringValue: String) { self.init(stringValue) }

    init?(intValue: Int) { self.init(index: intValue) }
}
