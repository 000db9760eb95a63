/// Encoded sizes, as librabbitmq writes values, tables and basic properties on the wire (AMQP
/// 0-9-1 with RabbitMQ's errata; `amqp_table.c`, `amqp_framing.c`), so that a message can be
/// checked, and made to fit, before it is sent.
///
/// Why before: `amqp_basic_publish` writes the `basic.publish` method frame first and encodes
/// the content header (the properties) only afterwards. When the properties do not fit a frame
/// (`AMQP_STATUS_TABLE_TOO_BIG`) or hold a short string over 255 bytes
/// (`AMQP_STATUS_BAD_AMQP_DATA`), the method frame has already gone out without its content,
/// and the broker closes the connection (`UNEXPECTED_FRAME`) at the next frame.
extension AMQPValue {
    /// Bytes this value takes in a table or array, its one-byte kind not included.
    public var encodedSize: Int {
        switch self {
        case .bool, .int8, .uint8: 1
        case .int16, .uint16: 2
        case .int32, .uint32, .float: 4
        case .int64, .uint64, .double, .timestamp: 8
        case .decimal: 5
        case .string(let s): 4 + s.utf8.count
        case .bytes(let b): 4 + b.count
        case .table(let t): 4 + t.encodedContentSize
        case .array(let a): 4 + a.reduce(0) { $0 + 1 + $1.encodedSize }
        case .void: 0
        }
    }

    /// The first table key (at any depth) longer than a short string allows (255 bytes).
    var overlongKey: String? {
        switch self {
        case .table(let t): t.overlongKey
        case .array(let a): a.lazy.compactMap(\.overlongKey).first
        default: nil
        }
    }
}

extension AMQPTable {
    /// Bytes of the table's entries, without the 4-byte length that precedes them.
    public var encodedContentSize: Int {
        reduce(0) { $0 + 1 + $1.key.utf8.count + 1 + $1.value.encodedSize }
    }

    /// Bytes of the table as a field (its 4-byte length and its entries).
    public var encodedSize: Int { 4 + encodedContentSize }

    /// The first key (at any depth) longer than a short string allows (255 bytes).
    var overlongKey: String? {
        for (key, value) in self {
            if key.utf8.count > 255 { return key }
            if let inner = value.overlongKey { return inner }
        }
        return nil
    }
}

extension AMQPBasicProperties {
    /// Bytes a content header frame needs besides the properties: the frame's own header (7)
    /// and end byte (1), and the content header's class id, weight and body size (12).
    public static let contentHeaderOverhead = 20

    /// Bytes of the encoded properties: the 2-byte flags and every field that is set.
    public var encodedSize: Int {
        var size = 2 + shortStrings.bytes
        if let headers { size += headers.encodedSize }
        if deliveryMode != nil { size += 1 }
        if priority != nil { size += 1 }
        if timestamp != nil { size += 8 }
        return size
    }

    /// The bytes the short-string fields that are set take, and the first one over 255 bytes
    /// (by its AMQP name), in one pass and without allocating: every publish asks.
    var shortStrings: (bytes: Int, overlong: (name: StaticString, size: Int)?) {
        var bytes = 0
        var overlong: (name: StaticString, size: Int)?
        func add(_ name: StaticString, _ value: String?) {
            guard let size = value?.utf8.count else { return }
            bytes += 1 + size
            if size > 255 && overlong == nil { overlong = (name, size) }
        }
        add("content_type", contentType)
        add("content_encoding", contentEncoding)
        add("correlation_id", correlationID)
        add("reply_to", replyTo)
        add("expiration", expiration)
        add("message_id", messageID)
        add("type", type)
        add("user_id", userID)
        add("app_id", appID)
        add("cluster_id", clusterID)
        return (bytes, overlong)
    }

    /// Why these properties cannot be sent in a content header frame of `frameMax` bytes, or
    /// `nil` when they can: a short-string field or a header name over 255 bytes, or more bytes
    /// than the frame holds. (`frameMax` 0 means no limit is known: only the first two are checked.)
    public func encodingProblem(frameMax: Int) -> String? {
        if let field = shortStrings.overlong {
            return "property \(field.name) is \(field.size) bytes; a short string holds at most 255"
        }
        if let key = headers?.overlongKey {
            return "a header name is \(key.utf8.count) bytes; a short string holds at most 255"
        }
        let size = encodedSize
        if frameMax > 0, size + Self.contentHeaderOverhead > frameMax {
            return "the properties take \(size) bytes (headers \(headers?.encodedSize ?? 0)); a frame of "
                + "\(frameMax) bytes (frame_max) holds at most \(frameMax - Self.contentHeaderOverhead)"
        }
        return nil
    }

    /// Whether these properties can be sent in a content header frame of `frameMax` bytes.
    public func fits(frameMax: Int) -> Bool { encodingProblem(frameMax: frameMax) == nil }
}
