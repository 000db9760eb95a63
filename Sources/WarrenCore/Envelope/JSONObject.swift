/// A JSON object whose keys keep the order they were written in, like a Python dict.
///
/// Keys are unique: setting a key that exists replaces its value in place. Equality ignores
/// order (`{"a": 1, "b": 2}` equals `{"b": 2, "a": 1}`); iteration and serialization follow it.
public struct JSONObject: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    private var storage: [Entry]
    private var index: [String: Int]

    struct Entry: Sendable, Hashable {
        var key: String
        var value: JSONValue
    }

    /// An empty object.
    public init() {
        storage = []
        index = [:]
    }

    /// An object with these members in this order; a repeated key keeps its first position and
    /// its last value (as Python's `json` does).
    public init(_ members: some Sequence<(String, JSONValue)>) {
        self.init()
        for (key, value) in members { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// The value of `key`; setting `nil` removes the key.
    public subscript(key: String) -> JSONValue? {
        get { index[key].map { storage[$0].value } }
        set {
            if let newValue {
                if let i = index[key] {
                    storage[i].value = newValue
                } else {
                    index[key] = storage.count
                    storage.append(Entry(key: key, value: newValue))
                }
            } else if let i = index.removeValue(forKey: key) {
                storage.remove(at: i)
                for j in i..<storage.count { index[storage[j].key] = j }
            }
        }
    }

    /// The keys in order.
    public var keys: [String] { storage.map(\.key) }

    /// The values in key order.
    public var values: [JSONValue] { storage.map(\.value) }

    public var startIndex: Int { storage.startIndex }
    public var endIndex: Int { storage.endIndex }

    /// The member at `position`, in key order.
    public subscript(position: Int) -> (key: String, value: JSONValue) {
        (storage[position].key, storage[position].value)
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.storage.count == rhs.storage.count else { return false }
        for entry in lhs.storage where rhs[entry.key] != entry.value { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent, to agree with ==.
        var dictionary: [String: JSONValue] = [:]
        for entry in storage { dictionary[entry.key] = entry.value }
        hasher.combine(dictionary)
    }
}

extension JSONObject: Codable {
    /// Reads a JSON object; see ``JSONValue``'s `init(from:)`.
    public init(from decoder: any Decoder) throws {
        guard case .object(let object) = try JSONValue(from: decoder) else {
            throw DecodingError.typeMismatch(
                JSONObject.self, .init(codingPath: decoder.codingPath, debugDescription: "expected an object"))
        }
        self = object
    }

    /// Writes the object.
    public func encode(to encoder: any Encoder) throws {
        try JSONValue.object(self).encode(to: encoder)
    }
}
