import Foundation

/// Encodes `Encodable` values into a ``JSONValue``, keeping keys in the order they are encoded
/// (declaration order for synthesized conformances) and integers exact.
///
/// Foundation types are written the way kombu's JSON encoder writes their Python counterparts,
/// so a Python client reading a Warren result gets Python values back (kombu 5.3 and later):
/// `Date` as `{"__type__": "datetime", "__value__": "<isoformat, +00:00>"}`, `UUID` as the
/// `uuid` marker, `Decimal` as the `decimal` marker and `Data` as the `bytes` marker (UTF-8) or
/// the `base64` marker. `URL` is its absolute string. ``JSONValueDecoder`` reads all of them back.
public struct JSONValueEncoder: Sendable {
    /// An encoder.
    public init() {}

    /// Encodes `value`.
    /// - Throws: `EncodingError` for an unsigned integer above `Int64.max`.
    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        try Implementation(node: Node(), codingPath: []).box(value, key: nil).resolved()
    }

    /// What an encoder (or one of its containers) has written so far.
    final class Node {
        enum Content {
            case none
            case single(JSONValue)
            case keyed(KeyedStorage)
            case unkeyed(UnkeyedStorage)
        }
        var content: Content = .none

        init() {}
        init(_ value: JSONValue) { content = .single(value) }

        func resolved() -> JSONValue {
            switch content {
            case .none: return .object([:])
            case .single(let value): return value
            case .keyed(let storage):
                return .object(JSONObject(storage.keys.map { ($0, storage.members[$0]!.resolved()) }))
            case .unkeyed(let storage): return .array(storage.elements.map { $0.resolved() })
            }
        }
    }

    final class KeyedStorage {
        var keys: [String] = []
        var members: [String: Node] = [:]

        func set(_ node: Node, for key: String) {
            if members.updateValue(node, forKey: key) == nil { keys.append(key) }
        }
    }

    final class UnkeyedStorage {
        var elements: [Node] = []
    }

    final class Implementation: Encoder, SingleValueEncodingContainer {
        let node: Node
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        init(node: Node, codingPath: [any CodingKey]) {
            self.node = node
            self.codingPath = codingPath
        }

        /// Stores a finished value (for ``JSONValue``'s own `encode(to:)`).
        func storeRaw(_ value: JSONValue) { node.content = .single(value) }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            let storage: KeyedStorage
            if case .keyed(let existing) = node.content {
                storage = existing
            } else {
                storage = KeyedStorage()
                node.content = .keyed(storage)
            }
            return KeyedEncodingContainer(KeyedContainer(storage: storage, encoder: self))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            let storage: UnkeyedStorage
            if case .unkeyed(let existing) = node.content {
                storage = existing
            } else {
                storage = UnkeyedStorage()
                node.content = .unkeyed(storage)
            }
            return UnkeyedContainer(storage: storage, encoder: self)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer { self }

        // MARK: SingleValueEncodingContainer

        func encodeNil() { node.content = .single(.null) }
        func encode(_ value: Bool) { node.content = .single(.bool(value)) }
        func encode(_ value: String) { node.content = .single(.string(value)) }
        func encode(_ value: Double) { node.content = .single(.double(value)) }
        func encode(_ value: Float) { node.content = .single(.double(Double("\(value)") ?? Double(value))) }
        func encode(_ value: Int) { node.content = .single(.int(Int64(value))) }
        func encode(_ value: Int8) { node.content = .single(.int(Int64(value))) }
        func encode(_ value: Int16) { node.content = .single(.int(Int64(value))) }
        func encode(_ value: Int32) { node.content = .single(.int(Int64(value))) }
        func encode(_ value: Int64) { node.content = .single(.int(value)) }
        func encode(_ value: UInt) throws { try encodeUnsigned(UInt64(value)) }
        func encode(_ value: UInt8) { node.content = .single(.int(Int64(value))) }
        func encode(_ value: UInt16) { node.content = .single(.int(Int64(value))) }
        func encode(_ value: UInt32) { node.content = .single(.int(Int64(value))) }
        func encode(_ value: UInt64) throws { try encodeUnsigned(value) }

        func encode<T: Encodable>(_ value: T) throws {
            node.content = try box(value, key: nil).content
        }

        private func encodeUnsigned(_ value: UInt64) throws {
            guard let int = Int64(exactly: value) else {
                throw EncodingError.invalidValue(
                    value, .init(codingPath: codingPath, debugDescription: "\(value) does not fit in Int64"))
            }
            node.content = .single(.int(int))
        }

        /// Encodes `value` into a new node one level below this encoder (or at it, for `key` nil).
        func box<T: Encodable>(_ value: T, key: (any CodingKey)?) throws -> Node {
            switch value {
            case let value as JSONValue: return Node(value)
            case let value as JSONObject: return Node(.object(value))
            case let date as Date: return Node(KombuJSON.wrap("datetime", .string(CeleryTime.format(date))))
            case let uuid as UUID:
                let hex = uuid.uuidString.lowercased().filter { $0 != "-" }
                return Node(KombuJSON.wrap("uuid", ["hex": .string(hex)]))
            case let decimal as Decimal: return Node(KombuJSON.wrap("decimal", .string(decimal.description)))
            case let data as Data:
                if let text = String(validating: data, as: UTF8.self) {
                    return Node(KombuJSON.wrap("bytes", .string(text)))
                }
                return Node(KombuJSON.wrap("base64", .string(data.base64EncodedString())))
            case let url as URL: return Node(.string(url.absoluteString))
            default:
                let child = Node()
                let path = key.map { codingPath + [$0] } ?? codingPath
                try value.encode(to: Implementation(node: child, codingPath: path))
                return child
            }
        }
    }

    struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let storage: KeyedStorage
        let encoder: Implementation

        var codingPath: [any CodingKey] { encoder.codingPath }

        mutating func encodeNil(forKey key: Key) { storage.set(Node(.null), for: key.stringValue) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            storage.set(try encoder.box(value, key: key), for: key.stringValue)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type, forKey key: Key
        ) -> KeyedEncodingContainer<NestedKey> {
            let child = Node()
            storage.set(child, for: key.stringValue)
            return Implementation(node: child, codingPath: codingPath + [key]).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let child = Node()
            storage.set(child, for: key.stringValue)
            return Implementation(node: child, codingPath: codingPath + [key]).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder {
            let child = Node()
            storage.set(child, for: "super")
            return Implementation(node: child, codingPath: codingPath + [JSONKey("super")])
        }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            let child = Node()
            storage.set(child, for: key.stringValue)
            return Implementation(node: child, codingPath: codingPath + [key])
        }
    }

    struct UnkeyedContainer: UnkeyedEncodingContainer {
        let storage: UnkeyedStorage
        let encoder: Implementation

        var codingPath: [any CodingKey] { encoder.codingPath }
        var count: Int { storage.elements.count }

        private var nextKey: JSONKey { JSONKey(index: storage.elements.count) }

        mutating func encodeNil() { storage.elements.append(Node(.null)) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            storage.elements.append(try encoder.box(value, key: nextKey))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type
        ) -> KeyedEncodingContainer<NestedKey> {
            let child = Node()
            let path = codingPath + [nextKey]
            storage.elements.append(child)
            return Implementation(node: child, codingPath: path).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let child = Node()
            let path = codingPath + [nextKey]
            storage.elements.append(child)
            return Implementation(node: child, codingPath: path).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder {
            let child = Node()
            let path = codingPath + [nextKey]
            storage.elements.append(child)
            return Implementation(node: child, codingPath: path)
        }
    }
}
