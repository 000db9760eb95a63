/// An AMQP field table: an ordered list of named ``AMQPValue``s, used for message headers and
/// for the arguments of declarations (`x-dead-letter-exchange`, `x-queue-type`, ...).
///
/// Order and duplicate keys are kept as they came off the wire, so a round trip is lossless;
/// the subscript reads the first entry with a key and replaces (or appends) on write.
///
/// ```swift
/// let args: AMQPTable = ["x-queue-type": "quorum", "x-delivery-limit": .int32(5)]
/// ```
public struct AMQPTable: Sendable, Hashable, ExpressibleByDictionaryLiteral, RandomAccessCollection {
    /// The entries in wire order.
    public var entries: [(key: String, value: AMQPValue)] {
        get { storage.map { ($0.key, $0.value) } }
        set { storage = newValue.map { Entry(key: $0.key, value: $0.value) } }
    }

    struct Entry: Sendable, Hashable {
        var key: String
        var value: AMQPValue
    }

    private var storage: [Entry]

    /// An empty table.
    public init() { storage = [] }

    /// A table with these entries, in this order.
    public init(_ entries: [(String, AMQPValue)]) {
        storage = entries.map { Entry(key: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, AMQPValue)...) {
        self.init(elements)
    }

    /// The value of the first entry named `key`; setting `nil` removes every entry with that key.
    public subscript(key: String) -> AMQPValue? {
        get { storage.first(where: { $0.key == key })?.value }
        set {
            if let newValue {
                if let i = storage.firstIndex(where: { $0.key == key }) {
                    storage[i].value = newValue
                } else {
                    storage.append(Entry(key: key, value: newValue))
                }
            } else {
                storage.removeAll { $0.key == key }
            }
        }
    }

    public var startIndex: Int { storage.startIndex }
    public var endIndex: Int { storage.endIndex }
    public subscript(position: Int) -> (key: String, value: AMQPValue) {
        (storage[position].key, storage[position].value)
    }

    /// The keys in wire order.
    public var keys: [String] { storage.map(\.key) }
}

extension AMQPTable: CustomStringConvertible {
    public var description: String {
        "[" + storage.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "]"
    }
}
