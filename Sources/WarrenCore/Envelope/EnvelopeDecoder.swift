import AMQP
import Foundation

/// Reads task messages: Celery's message protocol v2, plus the leniency docs/celery.md describes for
/// plain AMQP clients.
///
/// - **Task name**: header `task`; without it, the routing key.
/// - **Task id**: header `id`; without it, the `message_id` property, then `correlation_id`,
///   then a fresh lowercase UUID.
/// - **Body**: `[args, kwargs, embed]`, also `[args]` and `[args, kwargs]` (any of them may be
///   `null`); a JSON object is the kwargs; an empty body (or `null`, or `[]`) means no arguments.
///   A flat array such as `[2, 3]` is refused: positional arguments are wrapped, `[[2, 3]]`.
/// - **Content**: `application/json`, and, for plain clients, no content type, `text/plain` or
///   `text/json`; the charset and `content_encoding` must be UTF-8. Everything else — notably
///   pickle (`application/x-python-serialize`), YAML and msgpack — is refused, never executed,
///   as is a compressed body (header `compression`).
/// - **Times**: `eta` and `expires` are ISO-8601 text with or without an offset (naive = UTC),
///   or an AMQP timestamp; `None` or empty text means none.
///
/// Anything else that does not fit throws ``EnvelopeError`` (reason `malformed`) with a message
/// naming the header, content type or body part at fault.
package struct EnvelopeDecoder: Sendable {
    /// The largest body accepted, in bytes. Defaults to 16 MiB.
    package var maxBodySize: Int
    /// How deeply arrays and objects may nest in the body. Defaults to 64.
    package var maxDepth: Int

    /// A decoder with these limits.
    /// - Parameters:
    ///   - maxBodySize: The largest body accepted, in bytes; 16 MiB by default.
    ///   - maxDepth: How deeply arrays and objects may nest; 64 by default.
    package init(maxBodySize: Int = 16 << 20, maxDepth: Int = JSONValue.defaultMaxDepth) {
        self.maxBodySize = maxBodySize
        self.maxDepth = maxDepth
    }

    /// Reads the task a delivery carries.
    /// - Throws: ``EnvelopeError`` when the message is not a readable task.
    package func decode(delivery: AMQPDelivery) throws(EnvelopeError) -> TaskMessage {
        try decode(properties: delivery.properties, body: delivery.body, routingKey: delivery.routingKey)
    }

    /// Reads a task from its parts (for messages fetched with `basic.get` or dead letters).
    /// - Parameters:
    ///   - properties: The message properties and headers.
    ///   - body: The message body.
    ///   - routingKey: The routing key it was published with: the task name when there is no
    ///     `task` header.
    /// - Throws: ``EnvelopeError`` when the message is not a readable task.
    package func decode(
        properties: AMQPBasicProperties, body: [UInt8], routingKey: String
    ) throws(EnvelopeError) -> TaskMessage {
        let headers = properties.headers ?? AMQPTable()
        var reader = HeaderReader(headers: headers)

        // Name and id first, so every later error can say which task it was.
        let name = try reader.string("task") ?? routingKey
        guard !name.isEmpty else {
            throw EnvelopeError(.invalidHeader, "no task name: the message has no 'task' header and an empty routing key")
        }
        reader.taskName = name
        let headerID = try reader.string("id")
        let id =
            [headerID, properties.messageID, properties.correlationID]
            .compactMap { $0 }.first { !$0.isEmpty } ?? TaskMessage.newID()
        // The id is the reply's correlation_id (an AMQP short string) when the task has none:
        // longer, no reply could be sent. No Celery client makes one (it sends the id as the
        // task's own correlation_id too).
        guard id.utf8.count <= Self.maxIDBytes else {
            throw EnvelopeError(
                .invalidHeader,
                "header 'id' is \(id.utf8.count) bytes; a task id is at most \(Self.maxIDBytes) bytes "
                    + "(it is the reply's correlation_id, an AMQP short string)", taskName: name, taskID: id)
        }
        reader.taskID = id
        func failure(_ code: EnvelopeError.Code, _ message: String) -> EnvelopeError {
            EnvelopeError(code, message, taskName: name, taskID: id)
        }

        guard body.count <= maxBodySize else {
            throw failure(.tooLarge, "body is \(body.count) bytes, over the limit of \(maxBodySize) bytes")
        }
        try checkContent(properties, reader: reader)

        let retries = try reader.int("retries") ?? 0
        guard retries >= 0 else { throw reader.error("header 'retries' must not be negative, got \(retries)") }
        guard retries <= Self.maxRetries else {
            throw reader.error("header 'retries' is out of range (at most \(Self.maxRetries)), got \(retries)")
        }
        let eta = try reader.time("eta")
        let expires = try reader.time("expires")
        let timeLimit = try reader.timeLimit()
        let rootID = try reader.string("root_id")
        let parentID = try reader.string("parent_id")
        let group = try reader.string("group")
        let groupIndex = try reader.int("group_index")
        let shadow = try reader.string("shadow")
        let origin = try reader.string("origin")
        let ignoreResult = try reader.bool("ignore_result") ?? false

        let (args, kwargs, embed) = try readBody(body, failure: failure)

        var message = TaskMessage(name: name, id: id)
        message.args = args
        message.kwargs = kwargs
        message.embed = embed
        message.retries = retries
        message.eta = eta
        message.expires = expires
        message.timeLimit = timeLimit
        message.rootID = rootID
        message.parentID = parentID
        message.group = group
        message.groupIndex = groupIndex
        message.shadow = shadow
        message.origin = origin
        message.ignoreResult = ignoreResult
        message.replyTo = properties.replyTo.flatMap { $0.isEmpty ? nil : $0 }
        message.correlationID = properties.correlationID
        message.priority = properties.priority
        message.contentType = properties.contentType
        message.headers = headers
        return message
    }

    /// The longest task id accepted, in UTF-8 bytes: 255, what an AMQP short string (the reply's
    /// `correlation_id`) holds.
    package static let maxIDBytes = 255

    /// The largest `retries` accepted: one less than `Int64.max`, so that the attempt after it
    /// (`retries + 1`, which Warren counts and writes back) is a number too. Beyond it the message
    /// is malformed. (py-amqp sends counts beyond ±2^31-1 as signed 64-bit values.)
    package static let maxRetries = Int(Int64.max) - 1

    // MARK: - Content type, encoding, compression

    private static let acceptedTypes: Set<String> = ["", "application/json", "text/json", "text/plain"]

    private func checkContent(_ properties: AMQPBasicProperties, reader: HeaderReader) throws(EnvelopeError) {
        func refuse(_ message: String) -> EnvelopeError {
            EnvelopeError(.unsupportedContent, message, taskName: reader.taskName, taskID: reader.taskID)
        }
        let contentType = properties.contentType ?? ""
        // Celery's own content type (and none at all) need no parsing: the common case, per task.
        if !(contentType == "application/json" || contentType.isEmpty) {
            try checkContentType(contentType, refuse: refuse)
        }
        if let encoding = properties.contentEncoding, !encoding.isEmpty, !Self.isUTF8(encoding) {
            throw refuse("content encoding '\(ErrorText.escaped(encoding))' is not supported; Warren reads only utf-8")
        }
        if let compression = reader.value("compression") {
            let name = compression.stringValue.map { "'\(ErrorText.escaped($0))'" } ?? HeaderReader.describe(compression)
            throw refuse("compressed bodies (compression \(name)) are not supported; publish without compression")
        }
    }

    /// A content type with parameters, or other than application/json: its media type must be
    /// JSON or text, and its charset (if any) UTF-8.
    private func checkContentType(_ contentType: String, refuse: (String) -> EnvelopeError) throws(EnvelopeError) {
        var parts = contentType.split(separator: ";", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let media = parts.isEmpty ? "" : parts.removeFirst().lowercased()
        // What a client sent is shown escaped: it goes into a one-line log and a header.
        var shownType: String { ErrorText.escaped(contentType, limit: 100) }
        guard Self.acceptedTypes.contains(media) else {
            let advice = "Warren reads only application/json (Celery: task_serializer='json')"
            if media == "application/x-python-serialize" {
                throw refuse("content type '\(shownType)' (pickle) is refused: Warren never unpickles; \(advice)")
            }
            let kind =
                switch media {
                case "application/x-yaml", "application/yaml": " (YAML)"
                case "application/x-msgpack", "application/msgpack": " (msgpack)"
                default: ""
                }
            throw refuse("content type '\(shownType)'\(kind) is not supported; \(advice)")
        }
        for parameter in parts where parameter.lowercased().hasPrefix("charset=") {
            let charset = parameter.dropFirst("charset=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
            guard Self.isUTF8(charset) else {
                throw refuse(
                    "charset '\(ErrorText.escaped(charset))' of content type '\(shownType)' is not supported; Warren reads only utf-8")
            }
        }
    }

    private static func isUTF8(_ name: String) -> Bool {
        name == "utf-8" || ["utf-8", "utf8"].contains(name.lowercased())
    }

    // MARK: - Body

    private func readBody(
        _ body: [UInt8], failure: (EnvelopeError.Code, String) -> EnvelopeError
    ) throws(EnvelopeError) -> (args: [JSONValue], kwargs: JSONObject, embed: JSONValue) {
        if let offset = Self.firstInvalidUTF8(body) {
            throw failure(.invalidJSON, "body is not valid UTF-8 (byte \(offset))")
        }
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return ([], [:], TaskMessage.emptyEmbed)
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: body, maxDepth: maxDepth)
        } catch {
            throw failure(.invalidJSON, "body: \(error.message)")
        }
        switch json {
        case .null:
            return ([], [:], TaskMessage.emptyEmbed)
        case .object(let kwargs):
            return ([], kwargs, TaskMessage.emptyEmbed)
        case .array(let parts):
            let shape = "the body must be [args, kwargs, embed] (or [args] or [args, kwargs])"
            guard parts.count <= 3 else {
                throw failure(.invalidBody, "\(shape), got an array of \(parts.count) elements")
            }
            let args: [JSONValue]
            switch parts.first ?? .null {
            case .null: args = []
            case .array(let a): args = a
            case let other:
                throw failure(
                    .invalidBody,
                    "\(shape); its first element, args, must be an array, got \(describe(other)) "
                        + "(wrap positional arguments: [[2, 3]])")
            }
            var kwargs = JSONObject()
            if parts.count > 1 {
                switch parts[1] {
                case .null: break
                case .object(let o): kwargs = o
                case let other:
                    throw failure(.invalidBody, "\(shape); its second element, kwargs, must be an object, got \(describe(other))")
                }
            }
            var embed = TaskMessage.emptyEmbed
            if parts.count > 2 {
                switch parts[2] {
                case .null, .object: embed = parts[2]
                case let other:
                    throw failure(.invalidBody, "\(shape); its third element, embed, must be an object, got \(describe(other))")
                }
            }
            return (args, kwargs, embed)
        case let other:
            throw failure(
                .invalidBody,
                "the body must be a JSON array [args, kwargs, embed] or an object of keyword arguments, got \(describe(other))")
        }
    }

    /// The offset of the first byte that is not part of valid UTF-8, else `nil`.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        if String(validating: bytes, as: UTF8.self) != nil { return nil }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
