import WarrenCore

/// One remote-control message from the `celery.pidbox` exchange, read and range-checked
/// (kombu/pidbox.py, `Mailbox._publish` and `Node.handle_message`).
///
/// Anyone who can publish on the vhost can send one: every field is checked, and a request that
/// cannot be read is answered (when it says where) or dropped, never trusted.
struct ControlRequest: Sendable, Equatable {
    /// The largest body read; a larger one is refused unread.
    static let maxBodyBytes = 64 << 10
    /// The most node names in `destination`, or task ids in a request.
    static let maxItems = 1_000
    /// The exchange replies go to: Celery's, and no other (a request naming another exchange
    /// could make the node publish anywhere).
    static let replyExchange = "reply.celery.pidbox"

    var method: String
    var arguments: JSONObject
    /// Node names; `nil` or empty: every node.
    var destination: [String]?
    var pattern: String?
    var matcher: String?
    var ticket: String?
    /// The routing key of the caller's reply queue, when a reply is wanted.
    var replyTo: String?

    /// Why a body is refused.
    enum Problem: Error, Equatable {
        case tooLarge(Int)
        case notJSON(String)
        case invalid(String)
    }

    /// Reads a body; the reply address is read first, so that a bad request can still be
    /// answered with an error (``Problem``s carry it through ``partialReplyTo``).
    static func parse(_ body: [UInt8]) -> Result<ControlRequest, Problem> {
        guard body.count <= maxBodyBytes else { return .failure(.tooLarge(body.count)) }
        let json: JSONValue
        do throws(EnvelopeError) {
            json = try JSONValue(parsing: body, maxDepth: 16)
        } catch {
            return .failure(.notJSON(ErrorText.bounded("\(error)", maxBytes: 200)))
        }
        guard let object = json.objectValue else { return .failure(.invalid("the body is not a JSON object")) }
        guard let method = object["method"]?.stringValue, !method.isEmpty, method.utf8.count <= 64 else {
            return .failure(.invalid("method must be a string of 1 to 64 bytes"))
        }
        var request = ControlRequest(method: method, arguments: [:])
        switch object["arguments"] {
        case nil, .null?: break
        case .object(let arguments)?: request.arguments = arguments
        default: return .failure(.invalid("arguments must be an object"))
        }
        switch object["destination"] {
        case nil, .null?: break
        case .array(let names)?:
            guard names.count <= maxItems else { return .failure(.invalid("destination lists more than \(maxItems) nodes")) }
            request.destination = names.compactMap(\.stringValue)
        case .string(let name)?: request.destination = [name]
        default: return .failure(.invalid("destination must be a list of node names"))
        }
        request.pattern = object["pattern"]?.stringValue.flatMap { $0.utf8.count <= 255 ? $0 : nil }
        request.matcher = object["matcher"]?.stringValue.flatMap { $0.utf8.count <= 16 ? $0 : nil }
        if let ticket = object["ticket"]?.stringValue, ticket.utf8.count <= 255 { request.ticket = ticket }
        if let replyTo = object["reply_to"]?.objectValue, replyTo["exchange"]?.stringValue == replyExchange,
            let key = replyTo["routing_key"]?.stringValue, !key.isEmpty, key.utf8.count <= 255
        {
            request.replyTo = key
        }
        return .success(request)
    }

    /// The reply address of a body that could not be read as a whole, if it has a readable one
    /// and is not addressed to other nodes only (kombu reads `destination` before anything else:
    /// every node would otherwise answer a bad request meant for one).
    static func replyAddress(_ body: [UInt8], node: String) -> (routingKey: String, ticket: String?)? {
        guard body.count <= maxBodyBytes, let object = (try? JSONValue(parsing: body, maxDepth: 16))?.objectValue,
            let replyTo = object["reply_to"]?.objectValue, replyTo["exchange"]?.stringValue == replyExchange,
            let key = replyTo["routing_key"]?.stringValue, !key.isEmpty, key.utf8.count <= 255
        else { return nil }
        switch object["destination"] {
        case .array(let names)? where !names.isEmpty:
            guard names.contains(.string(node)) else { return nil }
        case .string(let name)? where !name.isEmpty:
            guard name == node else { return nil }
        case nil, .null?, .array?, .string?: break
        default: return nil  // unreadable: not known to be for this node
        }
        return (key, object["ticket"]?.stringValue.flatMap { $0.utf8.count <= 255 ? $0 : nil })
    }

    /// Whether this request is for the node `node` (kombu's `Node.handle_message`): named in
    /// `destination`, else matched by `pattern` (glob only; `pcre` patterns match nothing here),
    /// else every node.
    func isFor(node: String) -> Bool {
        if let destination, !destination.isEmpty { return destination.contains(node) }
        if let pattern, let matcher {
            return matcher == "glob" && Glob.matches(node, pattern: pattern)
        }
        return true
    }
}

/// `fnmatch`-style globbing of node names: `*` and `?` (a `[` is a plain character here). No
/// backtracking blow-up: at most pattern × name steps, whatever the sender's pattern.
enum Glob {
    static func matches(_ name: String, pattern: String) -> Bool {
        let n = Array(name.unicodeScalars)
        let p = Array(pattern.unicodeScalars)
        var (i, j) = (0, 0)
        var star: Int? = nil
        var mark = 0
        while i < n.count {
            if j < p.count && (p[j] == "?" || p[j] == n[i]) {
                i += 1
                j += 1
            } else if j < p.count && p[j] == "*" {
                star = j
                mark = i
                j += 1
            } else if let s = star {
                j = s + 1
                mark += 1
                i = mark
            } else {
                return false
            }
        }
        while j < p.count && p[j] == "*" { j += 1 }
        return j == p.count
    }
}
