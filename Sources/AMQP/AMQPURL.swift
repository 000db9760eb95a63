/// An AMQP URI taken apart, as written: `amqp[s]://[user[:password]@]host[:port][/vhost][?query]`.
///
/// The one parser of broker URLs in Warren: ``AMQPConnection/Configuration/init(url:)`` fills a
/// connection's settings from it (with librabbitmq's defaults for what is missing and the RabbitMQ
/// URI spec's query keys), and the config's broker URLs check it against their own rules. A part
/// not written is `nil`; user, password and vhost are percent-decoded (`%2F` is `/`).
public struct AMQPURL: Sendable, Hashable {
    /// `true` for `amqps://` (TLS). The scheme is case-insensitive.
    public var usesTLS: Bool
    /// The user name, if the URL has user info.
    public var user: String?
    /// The password, if the user info has one. Never print it.
    public var password: String?
    /// The host name or IP address (an IPv6 address without its brackets); empty when missing.
    public var host: String
    /// The port, if written.
    public var port: Int?
    /// The vhost, if the URL has a non-empty path: `nil` for `amqp://h` and `amqp://h/`.
    public var virtualHost: String?
    /// The query parameters, in order, decoded.
    public var query: [QueryItem]

    /// One `key=value` of the query.
    public struct QueryItem: Sendable, Hashable {
        /// The key, as written.
        public var key: String
        /// The value, decoded; `nil` for a key without `=`.
        public var value: String?
    }

    /// What is wrong with a URL, in words for a person: `the port must be a number from 1 to
    /// 65535, not "x"`. It never contains the password.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        /// The explanation.
        public var detail: String
        /// The explanation.
        public var description: String { detail }
    }

    /// Takes `text` apart.
    /// - Returns: The parts, or what is wrong with them.
    public static func parse(_ text: String) -> Result<AMQPURL, Problem> {
        func failure(_ detail: String) -> Result<AMQPURL, Problem> { .failure(Problem(detail: detail)) }
        guard let schemeEnd = text.firstRange(of: "://") else { return failure("it needs a scheme, amqp:// or amqps://") }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "amqp" || scheme == "amqps" else {
            return failure("the scheme must be amqp or amqps, not \"\(String(scheme.prefix(20)))\"")
        }
        var rest = text[schemeEnd.upperBound...]
        // A / ? or # before the last @ would be read as the end of the user info by every client.
        if let at = rest.lastIndex(of: "@"), rest[..<at].contains(where: { "/?#".contains($0) }) {
            return failure("write / ? # in the user name or password as %2F %3F %23")
        }
        if rest.contains("#") { return failure("an AMQP URL has no #fragment; write # in a vhost as %23") }
        var queryText: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            queryText = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var hostPort = rest[..<authorityEnd]
        var url = AMQPURL(usesTLS: scheme == "amqps", host: "", query: [])

        if let at = hostPort.lastIndex(of: "@") {
            let userInfo = hostPort[..<at]
            hostPort = hostPort[hostPort.index(after: at)...]
            let colon = userInfo.firstIndex(of: ":")
            guard let user = percentDecoded(userInfo[..<(colon ?? userInfo.endIndex)]) else {
                return failure("the user name has a bad percent-escape")
            }
            url.user = user
            if let colon {
                guard let password = percentDecoded(userInfo[userInfo.index(after: colon)...]) else {
                    return failure("the password has a bad percent-escape")
                }
                url.password = password
            }
        }

        var portText: Substring?
        if hostPort.first == "[" {
            guard let close = hostPort.firstIndex(of: "]") else { return failure("an IPv6 address needs its closing ]") }
            url.host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let afterClose = hostPort[hostPort.index(after: close)...]
            if !afterClose.isEmpty {
                guard afterClose.first == ":" else { return failure("expected :port after the IPv6 address") }
                portText = afterClose.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            url.host = String(hostPort[..<colon])
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            url.host = String(hostPort)
        }
        if url.host.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "@" }) {
            return failure("the host \"\(String(url.host.prefix(80)))\" is not a host name or an IP address")
        }
        if let portText {
            guard portText.utf8.allSatisfy({ (48...57).contains($0) }), let port = Int(portText), (1...65535).contains(port) else {
                return failure("the port must be a number from 1 to 65535, not \"\(String(portText.prefix(20)))\"")
            }
            url.port = port
        }
        if authorityEnd < rest.endIndex {
            guard let vhost = percentDecoded(rest[rest.index(after: authorityEnd)...]) else {
                return failure("the vhost has a bad percent-escape")
            }
            if !vhost.isEmpty { url.virtualHost = vhost }
        }
        for pair in queryText.split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(kv[0])
            if kv.count == 2 {
                guard let value = percentDecoded(kv[1]) else { return failure("query parameter '\(key)' has a bad percent-escape") }
                url.query.append(QueryItem(key: key, value: value))
            } else {
                url.query.append(QueryItem(key: key, value: nil))
            }
        }
        return .success(url)
    }

    /// `text` with every byte but RFC 3986's unreserved characters written as `%XX`: how a user
    /// name, password or vhost goes into a URL.
    public static func percentEncoded(_ text: String) -> String {
        var out = ""
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%\(hex[Int(b >> 4)])\(hex[Int(b & 0xF)])"
            }
        }
        return out
    }

    /// Decodes `%XX` escapes as UTF-8; `nil` on a malformed escape or invalid UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var it = text.utf8.makeIterator()
        while let b = it.next() {
            if b == UInt8(ascii: "%") {
                guard let h = it.next(), let l = it.next(), let hi = hexValue(h), let lo = hexValue(l) else { return nil }
                bytes.append(hi << 4 | lo)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
