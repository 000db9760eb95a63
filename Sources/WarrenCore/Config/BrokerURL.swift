import AMQP

/// One broker address: an `amqp://` or `amqps://` URL, checked and taken apart.
///
/// The form is RabbitMQ's: `amqp[s]://[user[:password]@]host[:port][/vhost]`. User, password and
/// vhost are percent-decoded (`%2F` is `/`). Missing parts take librabbitmq's defaults: user and
/// password `guest`, port 5672 (5671 for `amqps`), vhost `/`. An empty vhost (`amqp://host/`)
/// also means `/`, as most clients read it, and so does `amqp://host//`. Query parameters are
/// refused: set the heartbeat and TLS in the config instead.
///
/// ``description`` masks the password (`amqp://user:****@host:5672/%2F`); use it, never
/// ``unmaskedString``, in logs and messages.
public struct BrokerURL: Sendable, Hashable, CustomStringConvertible {
    /// `true` for `amqps://` (TLS).
    public var usesTLS: Bool
    /// The user name, decoded.
    public var user: String
    /// The password, decoded. Never print it.
    public var password: String
    /// The host name or IP address (an IPv6 address without its brackets).
    public var host: String
    /// The TCP port.
    public var port: Int
    /// The virtual host, decoded: `/` for the default one.
    public var virtualHost: String
    /// The URL as it was written, password included. Pass it to a client; never print it.
    public var unmaskedString: String

    /// Reads an AMQP URL.
    ///
    /// - Parameter string: The URL, for example `amqp://guest:guest@127.0.0.1:5672/%2F`.
    /// - Returns: `nil` when `string` is not an AMQP URL.
    public init?(_ string: String) {
        guard case .success(let url) = Self.parse(string) else { return nil }
        self = url
    }

    /// The URL as written, with the password replaced by `****`.
    public var description: String {
        Self.maskingPassword(in: unmaskedString)
    }

    /// Replaces the password in any URL with `****`: `amqp://user:secret@host/` becomes
    /// `amqp://user:****@host/`.
    ///
    /// It works on text that is not a valid URL too, so that even a refused URL can be shown in
    /// an error message. When it cannot tell where the password ends (an `@` in the vhost, say),
    /// it masks more rather than less.
    ///
    /// - Parameter url: Any text that may be a URL.
    /// - Returns: `url` without its password; unchanged when it has none.
    public static func maskingPassword(in url: String) -> String {
        AMQPConnection.Configuration.redact(url)
    }

    /// Reads `string`; a failure says what is wrong with it.
    static func parse(_ string: String) -> Result<BrokerURL, HumanValueFailure> {
        func failure(_ detail: String) -> Result<BrokerURL, HumanValueFailure> {
            .failure(HumanValueFailure(detail: detail))
        }
        guard let schemeEnd = string.range(of: "://") else {
            return failure("it needs a scheme, amqp:// or amqps://")
        }
        let scheme = string[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "amqp" || scheme == "amqps" else {
            return failure("the scheme must be amqp or amqps, not \"\(scheme)\"")
        }
        let usesTLS = scheme == "amqps"
        let rest = string[schemeEnd.upperBound...]
        if let at = rest.lastIndex(of: "@"), rest[..<at].contains(where: { "/?#".contains($0) }) {
            return failure("write / ? # in the user name or password as %2F %3F %23")
        }
        if rest.contains("?") || rest.contains("#") {
            return failure("query parameters are not supported; set broker.heartbeat and broker.tls instead")
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<authorityEnd]

        var user = "guest"
        var password = "guest"
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            let colon = userInfo.firstIndex(of: ":")
            guard let decodedUser = percentDecoded(userInfo[..<(colon ?? userInfo.endIndex)]) else {
                return failure("the user name has a bad percent-escape")
            }
            user = decodedUser
            if let colon {
                guard let decodedPassword = percentDecoded(userInfo[userInfo.index(after: colon)...]) else {
                    return failure("the password has a bad percent-escape")
                }
                password = decodedPassword
            }
        }

        var host: Substring
        var portText: Substring?
        if hostPort.first == "[" {
            guard let close = hostPort.firstIndex(of: "]") else {
                return failure("an IPv6 address needs its closing ]")
            }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let afterClose = hostPort[hostPort.index(after: close)...]
            if !afterClose.isEmpty {
                guard afterClose.first == ":" else { return failure("expected :port after the IPv6 address") }
                portText = afterClose.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = hostPort
        }
        guard !host.isEmpty else { return failure("the host is missing") }
        if host.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "@" }) {
            return failure("the host \"\(host)\" is not a host name or an IP address")
        }
        var port = usesTLS ? 5671 : 5672
        if let portText {
            guard let value = Int(portText), portText.allSatisfy({ $0.asciiDigit != nil }), (1...65535).contains(value)
            else {
                return failure("the port must be a number from 1 to 65535, not \"\(portText)\"")
            }
            port = value
        }

        var virtualHost = "/"
        if authorityEnd < rest.endIndex {
            guard let decoded = percentDecoded(rest[rest.index(after: authorityEnd)...]) else {
                return failure("the vhost has a bad percent-escape")
            }
            if !decoded.isEmpty { virtualHost = decoded }
        }
        return .success(
            BrokerURL(
                usesTLS: usesTLS, user: user, password: password, host: String(host), port: port,
                virtualHost: virtualHost, unmaskedString: string))
    }

    private init(
        usesTLS: Bool, user: String, password: String, host: String, port: Int, virtualHost: String,
        unmaskedString: String
    ) {
        self.usesTLS = usesTLS
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.virtualHost = virtualHost
        self.unmaskedString = unmaskedString
    }

    /// This URL with `password` in place of its own (or of the default one, when it has none):
    /// what `broker.password_file` does to every URL. ``unmaskedString`` is rewritten to match,
    /// with the user and password percent-encoded, so ``description`` still masks it.
    public func replacingPassword(_ password: String) -> BrokerURL {
        var url = self
        url.password = password
        // The scheme and the part after the user info (host, port, vhost) stay as written.
        let schemeEnd = unmaskedString.range(of: "://")!
        let rest = unmaskedString[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let hostStart = rest[..<authorityEnd].lastIndex(of: "@").map { rest.index(after: $0) } ?? rest.startIndex
        url.unmaskedString =
            unmaskedString[..<schemeEnd.upperBound] + Self.percentEncoded(user) + ":" + Self.percentEncoded(password) + "@"
            + rest[hostStart...]
        return url
    }

    /// `text` with every byte but RFC 3986's unreserved characters written as `%XX`.
    private static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                result.unicodeScalars.append("%")
                result.unicodeScalars.append(hex[Int(byte >> 4)])
                result.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return result
    }

    /// Decodes `%XX` escapes as UTF-8; `nil` on a malformed escape or invalid UTF-8.
    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
