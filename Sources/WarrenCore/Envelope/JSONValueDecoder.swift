import Foundation

/// Decodes `Decodable` types from a ``JSONValue``, keeping integers exact.
///
/// Beyond what `JSONDecoder` does, it reads the values Python clients send:
/// - `Date` from ISO-8601 text (naive = UTC), kombu's `datetime`/`date` markers, or a number of
///   seconds since 1970;
/// - `UUID` from text or kombu's `uuid` marker; `Decimal` from a number, text or kombu's
///   `decimal` marker; `Data` from base64 text or kombu's `bytes`/`base64` markers; `URL` from text;
/// - `String` also from any kombu marker that stands for text (a datetime, decimal or UUID);
/// - integer types also from a float that holds an integer exactly (`5.0`).
///
/// Keys are matched exactly (no snake-case conversion); use `CodingKeys` to rename.
public struct JSONValueDecoder: Sendable {
    /// A decoder.
    public init() {}

    /// Decodes a value of type `T` from `value`.
    /// - Throws: `DecodingError` with the coding path of the first value that does not fit.
    public func decode<T: Decodable>(_ type: T.Type = T.self, from value: JSONValue) throws -> T {
        try Implementation(node: .value(value), codingPath: []).unbox(value, as: T.self)
    }

    /// Decodes a task's arguments; see ``TaskArguments``.
    func decodeArguments<T: Decodable>(
        _ type: T.Type, args: [JSONValue], kwargs: JSONObject, argumentNames: [String]?
    ) throws -> T {
        let decoder = Implementation(
            node: .arguments(args: args, kwargs: kwargs, names: argumentNames), codingPath: [])
        return try decoder.unboxRoot(as: T.self)
    }

    /// What a decoder reads: one value, or the root of a task's arguments, which reads as an
    /// object (kwargs plus named positional args) or as an array (positional args).
    enum Node {
        case value(JSONValue)
        case arguments(args: [JSONValue], kwargs: JSONObject, names: [String]?)
    }

    final class Implementation: Decoder, SingleValueDecodingContainer {
        let node: Node
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        init(node: Node, codingPath: [any CodingKey]) {
            self.node = node
            self.codingPath = codingPath
        }

        // MARK: Decoder

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            switch node {
            case .value(.object(let object)):
                return KeyedDecodingContainer(KeyedContainer(object: object, decoder: self))
            case .value(let other):
                throw mismatch(JSONObject.self, "expected an object, found \(describe(other))")
            case .arguments(let args, let kwargs, let names):
                let merged = try mergeArguments(args: args, kwargs: kwargs, names: names)
                return KeyedDecodingContainer(KeyedContainer(object: merged, decoder: self))
            }
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            switch node {
            case .value(.array(let array)):
                return UnkeyedContainer(array: array, decoder: self)
            case .value(let other):
                throw mismatch([JSONValue].self, "expected an array, found \(describe(other))")
            case .arguments(let args, let kwargs, _):
                guard kwargs.isEmpty else {
                    throw DecodingError.dataCorrupted(
                        .init(
                            codingPath: codingPath,
                            debugDescription: "takes positional arguments only, but got keyword arguments "
                                + kwargs.keys.map { "'\(ErrorText.escaped($0))'" }.joined(separator: ", ")))
                }
                return UnkeyedContainer(array: args, decoder: self)
            }
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

        /// The value as a whole, for ``JSONValue``'s own `init(from:)`.
        func rawValue() throws -> JSONValue {
            switch node {
            case .value(let value): return value
            case .arguments(let args, let kwargs, let names):
                if let names, !names.isEmpty || !args.isEmpty {
                    return .object(try mergeArguments(args: args, kwargs: kwargs, names: names))
                }
                if args.isEmpty { return .object(kwargs) }
                if kwargs.isEmpty { return .array(args) }
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: codingPath,
                        debugDescription: "got both positional and keyword arguments; "
                            + "name the positional ones (PositionalArguments.argumentNames)"))
            }
        }

        private var value: JSONValue {
            get throws {
                if case .value(let value) = node { return value }
                return try rawValue()
            }
        }

        // MARK: SingleValueDecodingContainer

        func decodeNil() -> Bool {
            if case .value(.null) = node { return true }
            return false
        }

        func decode(_ type: Bool.Type) throws -> Bool {
            let value = try self.value
            guard case .bool(let b) = value else { throw mismatch(type, "expected a boolean, found \(describe(value))") }
            return b
        }

        func decode(_ type: String.Type) throws -> String {
            let value = try self.value
            if case .string(let s) = value { return s }
            if let text = KombuJSON.text(of: value) { return text }
            throw mismatch(type, "expected a string, found \(describe(value))")
        }

        func decode(_ type: Double.Type) throws -> Double {
            let value = try self.value
            if let d = value.doubleValue { return d }
            if let (marker, inner) = KombuJSON.unwrap(value), marker == "decimal",
                let text = inner.stringValue, let d = Double(text)
            {
                return d
            }
            throw mismatch(type, "expected a number, found \(describe(value))")
        }

        func decode(_ type: Float.Type) throws -> Float {
            let d = try decode(Double.self)
            guard d.isNaN || d.isInfinite || abs(d) <= Double(Float.greatestFiniteMagnitude) else {
                throw corrupted("number \(JSONValue.format(d)) does not fit in Float")
            }
            return Float(d)
        }

        func decode(_ type: Int.Type) throws -> Int { try integer(type) }
        func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
        func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
        func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
        func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
        func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try unbox(try value, as: type)
        }

        private func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
            let value = try self.value
            switch value {
            case .int(let i):
                guard let result = I(exactly: i) else { throw corrupted("number \(i) does not fit in \(I.self)") }
                return result
            case .double(let d):
                guard let result = I(exactly: d) else {
                    throw corrupted("number \(JSONValue.format(d)) is not an integer that fits in \(I.self)")
                }
                return result
            default:
                throw mismatch(type, "expected an integer, found \(describe(value))")
            }
        }

        // MARK: Unboxing

        /// Decodes `T` from `value` one level below this decoder's path (or at it, for the root).
        func unbox<T: Decodable>(_ value: JSONValue, as type: T.Type, key: (any CodingKey)? = nil) throws -> T {
            let path = key.map { codingPath + [$0] } ?? codingPath
            if T.self == JSONValue.self { return value as! T }
            if T.self == JSONObject.self {
                guard case .object(let object) = value else {
                    throw DecodingError.typeMismatch(
                        type, .init(codingPath: path, debugDescription: "expected an object, found \(describe(value))"))
                }
                return object as! T
            }
            if let special = try Self.special(value, as: type, path: path) { return special }
            return try T(from: Implementation(node: .value(value), codingPath: path))
        }

        /// Decodes `T` from the root of a task's arguments.
        func unboxRoot<T: Decodable>(as type: T.Type) throws -> T {
            if case .value(let value) = node { return try unbox(value, as: type) }
            if T.self == JSONValue.self { return try rawValue() as! T }
            if T.self == JSONObject.self {
                guard case .object(let object) = try rawValue() else {
                    throw corrupted("takes keyword arguments only, but got positional arguments")
                }
                return object as! T
            }
            return try T(from: self)
        }

        private static func special<T>(_ value: JSONValue, as type: T.Type, path: [any CodingKey]) throws -> T? {
            func fail(_ message: String) -> DecodingError {
                .dataCorrupted(.init(codingPath: path, debugDescription: message))
            }
            if T.self == Date.self {
                switch value {
                case .string(let text):
                    guard let date = CeleryTime.parse(text) else { throw fail("'\(ErrorText.escaped(text))' is not an ISO-8601 time") }
                    return (date as! T)
                case .int, .double:
                    return (Date(timeIntervalSince1970: value.doubleValue!) as! T)
                default:
                    if let (marker, inner) = KombuJSON.unwrap(value), marker == "datetime" || marker == "date",
                        let text = inner.stringValue, let date = CeleryTime.parse(text)
                    {
                        return (date as! T)
                    }
                    throw fail("expected an ISO-8601 time, found \(describe(value))")
                }
            }
            if T.self == UUID.self {
                let text = value.stringValue ?? KombuJSON.text(of: value)
                guard let text, let uuid = UUID(uuidString: text) ?? KombuJSON.uuid(hex: text) else {
                    throw fail("expected a UUID, found \(describe(value))")
                }
                return (uuid as! T)
            }
            if T.self == Decimal.self {
                let text: String? =
                    switch value {
                    case .int(let i): String(i)
                    case .double(let d): d.isFinite ? JSONValue.format(d) : nil
                    case .string(let s): s
                    default: KombuJSON.unwrap(value).flatMap { $0.type == "decimal" ? $0.value.stringValue : nil }
                    }
                guard let text, let decimal = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
                    throw fail("expected a decimal number, found \(describe(value))")
                }
                return (decimal as! T)
            }
            if T.self == Data.self {
                if let (marker, inner) = KombuJSON.unwrap(value), let text = inner.stringValue {
                    if marker == "bytes" { return (Data(text.utf8) as! T) }
                    if marker == "base64", let data = Data(base64Encoded: text) { return (data as! T) }
                }
                if case .string(let text) = value, let data = Data(base64Encoded: text) { return (data as! T) }
                throw fail("expected base64 text or kombu bytes, found \(describe(value))")
            }
            if T.self == URL.self {
                guard case .string(let text) = value, let url = URL(string: text) else {
                    throw fail("expected a URL, found \(describe(value))")
                }
                return (url as! T)
            }
            return nil
        }

        // MARK: Arguments

        private func mergeArguments(args: [JSONValue], kwargs: JSONObject, names: [String]?) throws -> JSONObject {
            if args.isEmpty { return kwargs }
            guard let names, !names.isEmpty else {
                throw corrupted(
                    "got \(args.count) positional argument\(args.count == 1 ? "" : "s") but takes keyword "
                        + "arguments only; name the positional ones (PositionalArguments.argumentNames)")
            }
            guard args.count <= names.count else {
                throw corrupted(
                    "takes \(names.count) positional argument\(names.count == 1 ? "" : "s") but \(args.count) were given")
            }
            var merged = JSONObject()
            for (name, arg) in zip(names, args) {
                if kwargs[name] != nil { throw corrupted("got multiple values for argument '\(name)'") }
                merged[name] = arg
            }
            for (key, value) in kwargs { merged[key] = value }
            return merged
        }

        // MARK: Errors

        func mismatch(_ type: Any.Type, _ message: String) -> DecodingError {
            .typeMismatch(type, .init(codingPath: codingPath, debugDescription: message))
        }

        func corrupted(_ message: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: codingPath, debugDescription: message))
        }
    }

    struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let object: JSONObject
        let decoder: Implementation

        var codingPath: [any CodingKey] { decoder.codingPath }
        var allKeys: [Key] { object.keys.compactMap(Key.init(stringValue:)) }

        func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

        private func value(for key: Key) throws -> JSONValue {
            guard let value = object[key.stringValue] else {
                throw DecodingError.keyNotFound(
                    key, .init(codingPath: codingPath, debugDescription: "missing key '\(key.stringValue)'"))
            }
            return value
        }

        func decodeNil(forKey key: Key) throws -> Bool { try value(for: key).isNull }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try decodeValue(type, key)
        }

        private func decodeValue<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
            let value = try value(for: key)
            if value.isNull, T.self != JSONValue.self {
                throw DecodingError.valueNotFound(
                    type,
                    .init(codingPath: codingPath + [key], debugDescription: "expected \(T.self), found null"))
            }
            return try decoder.unbox(value, as: type, key: key)
        }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeValue(type, key) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeValue(type, key) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeValue(type, key) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeValue(type, key) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeValue(type, key) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decodeValue(type, key) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decodeValue(type, key) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeValue(type, key) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeValue(type, key) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decodeValue(type, key) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decodeValue(type, key) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decodeValue(type, key) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decodeValue(type, key) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeValue(type, key) }

        func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type, forKey key: Key
        ) throws -> KeyedDecodingContainer<NestedKey> {
            try Implementation(node: .value(try value(for: key)), codingPath: codingPath + [key])
                .container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try Implementation(node: .value(try value(for: key)), codingPath: codingPath + [key]).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder {
            Implementation(node: .value(object["super"] ?? .null), codingPath: codingPath + [JSONKey("super")])
        }

        func superDecoder(forKey key: Key) throws -> any Decoder {
            Implementation(node: .value(object[key.stringValue] ?? .null), codingPath: codingPath + [key])
        }
    }

    struct UnkeyedContainer: UnkeyedDecodingContainer {
        let array: [JSONValue]
        let decoder: Implementation
        private(set) var currentIndex = 0

        init(array: [JSONValue], decoder: Implementation) {
            self.array = array
            self.decoder = decoder
        }

        var codingPath: [any CodingKey] { decoder.codingPath }
        var count: Int? { array.count }
        var isAtEnd: Bool { currentIndex >= array.count }

        private var currentKey: JSONKey { JSONKey(index: currentIndex) }

        private func current<T>(_ type: T.Type) throws -> JSONValue {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(
                    type,
                    .init(
                        codingPath: codingPath + [currentKey],
                        debugDescription: "expected \(T.self) at index \(currentIndex), but only \(array.count) "
                            + "element\(array.count == 1 ? "" : "s") given"))
            }
            return array[currentIndex]
        }

        mutating func decodeNil() throws -> Bool {
            guard try current(Never.self).isNull else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let value = try current(type)
            if value.isNull, T.self != JSONValue.self {
                throw DecodingError.valueNotFound(
                    type,
                    .init(codingPath: codingPath + [currentKey], debugDescription: "expected \(T.self), found null"))
            }
            let result = try decoder.unbox(value, as: type, key: currentKey)
            currentIndex += 1
            return result
        }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type
        ) throws -> KeyedDecodingContainer<NestedKey> {
            let value = try current(JSONObject.self)
            let container = try Implementation(node: .value(value), codingPath: codingPath + [currentKey])
                .container(keyedBy: type)
            currentIndex += 1
            return container
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let value = try current([JSONValue].self)
            let container = try Implementation(node: .value(value), codingPath: codingPath + [currentKey])
                .unkeyedContainer()
            currentIndex += 1
            return container
        }

        mutating func superDecoder() throws -> any Decoder {
            let value = try current(JSONValue.self)
            defer { currentIndex += 1 }
            return Implementation(node: .value(value), codingPath: codingPath + [currentKey])
        }
    }
}

/// A short description of a value for error messages: its kind, and short scalars themselves.
func describe(_ value: JSONValue) -> String {
    switch value {
    case .null: return "null"
    case .bool(let b): return "boolean \(b)"
    case .int(let i): return "integer \(i)"
    case .double(let d): return "number \(JSONValue.format(d))"
    case .string(let s):
        return "string \(ErrorText.quoted(s, limit: 40))"
    case .array(let a): return "array of \(a.count)"
    case .object: return "object"
    }
}
