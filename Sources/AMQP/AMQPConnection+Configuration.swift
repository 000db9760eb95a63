extension AMQPConnection {
    /// Where and how to connect. Build it from a URL (``init(url:)``) or field by field; every
    /// field has a default that works against a local RabbitMQ.
    public struct Configuration: Sendable, Hashable {
        /// TLS settings for `amqps://`. Peer verification is on unless turned off explicitly.
        public struct TLS: Sendable, Hashable {
            /// PEM file of the CA(s) that signed the broker's certificate; `nil` uses none, so a
            /// verifying connection then fails: give one.
            public var caCertificatePath: String?
            /// PEM client certificate, for brokers that require one (optional).
            public var certificatePath: String?
            /// PEM private key of the client certificate.
            public var keyPath: String?
            /// Check the broker's certificate chain against the CA. Defaults to `true`.
            public var verifyPeer: Bool
            /// Check that the certificate names the host connected to. Defaults to `true`.
            public var verifyHostname: Bool

            /// TLS settings; verification is on by default.
            public init(
                caCertificatePath: String? = nil, certificatePath: String? = nil, keyPath: String? = nil,
                verifyPeer: Bool = true, verifyHostname: Bool = true
            ) {
                self.caCertificatePath = caCertificatePath
                self.certificatePath = certificatePath
                self.keyPath = keyPath
                self.verifyPeer = verifyPeer
                self.verifyHostname = verifyHostname
            }
        }

        /// Host name or address. Defaults to `127.0.0.1`.
        public var host: String = "127.0.0.1"
        /// TCP port. Defaults to 5672, or 5671 for TLS.
        public var port: Int = 5672
        /// Virtual host. Defaults to `/`.
        public var virtualHost: String = "/"
        /// User name. Defaults to `guest`.
        public var user: String = "guest"
        /// Password. Defaults to `guest`. Never printed: see ``redactedURL``.
        public var password: String = "guest"
        /// TLS settings; `nil` for plain TCP.
        public var tls: TLS?
        /// Heartbeat interval asked of the broker (it may lower it); `.zero` turns heartbeats off.
        /// Defaults to 60 seconds, RabbitMQ's own default.
        public var heartbeat: Duration = .seconds(60)
        /// Largest frame asked of the broker. Defaults to 131072 bytes (librabbitmq's default).
        public var frameMax: Int = 131_072
        /// Most channels asked of the broker; 0 takes the broker's limit. Defaults to 0.
        public var channelMax: Int = 0
        /// Time allowed to open the socket and finish the AMQP handshake. Defaults to 10 seconds.
        public var connectTimeout: Duration = .seconds(10)
        /// Time allowed for a synchronous request (declare, bind, ...) to be answered; `nil` waits
        /// forever. Defaults to 30 seconds, so a dead broker is reported rather than hung on.
        public var rpcTimeout: Duration? = .seconds(30)
        /// Shown as the connection's name in `rabbitmqctl list_connections client_properties` and
        /// in the management UI.
        public var connectionName: String?
        /// More client properties to announce (`product`, `version`, ...).
        public var clientProperties: AMQPTable = [:]

        /// A configuration with every default: `guest@127.0.0.1:5672`, vhost `/`.
        public init() {}

        /// Parses an AMQP URI: `amqp[s]://[user[:password]@]host[:port][/vhost][?key=value&...]`.
        ///
        /// User, password and vhost are percent-decoded (`%2F` is `/`); a missing or empty vhost is
        /// `/`. Query keys of the RabbitMQ URI spec are understood: `heartbeat` (seconds),
        /// `connection_timeout` (ms), `channel_max`, `frame_max`, `cacertfile`, `certfile`,
        /// `keyfile`, `verify` (`verify_peer` or `verify_none`) and `name` (the connection name).
        /// - Throws: ``AMQPError`` with code ``AMQPError/Code/invalidURL`` naming the part that is wrong.
        public init(url: String) throws(AMQPError) {
            self.init()
            let masked = AMQPConnection.Configuration.redact(url)
            func fail(_ why: String) -> AMQPError {
                AMQPError(.invalidURL, "invalid AMQP URL '\(masked)': \(why)")
            }
            var rest = Substring(url)
            if rest.hasPrefix("amqps://") {
                rest = rest.dropFirst(8)
                tls = TLS()
                port = 5671
            } else if rest.hasPrefix("amqp://") {
                rest = rest.dropFirst(7)
            } else {
                throw fail("the scheme must be amqp:// or amqps://")
            }
            var query: Substring = ""
            if let q = rest.firstIndex(of: "?") {
                query = rest[rest.index(after: q)...]
                rest = rest[..<q]
            }
            var path: Substring?
            if let slash = rest.firstIndex(of: "/") {
                path = rest[rest.index(after: slash)...]
                rest = rest[..<slash]
            }
            if let at = rest.lastIndex(of: "@") {
                let userInfo = rest[..<at]
                rest = rest[rest.index(after: at)...]
                if let colon = userInfo.firstIndex(of: ":") {
                    guard let u = percentDecode(userInfo[..<colon]),
                        let p = percentDecode(userInfo[userInfo.index(after: colon)...])
                    else { throw fail("bad percent-encoding in the user or password") }
                    user = u
                    password = p
                } else {
                    guard let u = percentDecode(userInfo) else { throw fail("bad percent-encoding in the user") }
                    user = u
                }
            }
            // Host, with IPv6 literals in brackets: [::1]:5672
            var hostPart = rest
            var portPart: Substring?
            if hostPart.hasPrefix("[") {
                guard let close = hostPart.firstIndex(of: "]") else { throw fail("unclosed '[' in the host") }
                let after = hostPart[hostPart.index(after: close)...]
                hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
                if after.hasPrefix(":") {
                    portPart = after.dropFirst()
                } else if !after.isEmpty {
                    throw fail("unexpected '\(after)' after the host")
                }
            } else if let colon = hostPart.lastIndex(of: ":") {
                portPart = hostPart[hostPart.index(after: colon)...]
                hostPart = hostPart[..<colon]
            }
            if !hostPart.isEmpty { host = String(hostPart) }
            if let portPart {
                guard let p = Int(portPart), (1...65535).contains(p) else {
                    throw fail("the port '\(portPart)' is not a number from 1 to 65535")
                }
                port = p
            }
            if let path, !path.isEmpty {
                guard let v = percentDecode(path) else { throw fail("bad percent-encoding in the vhost") }
                virtualHost = v
            }
            for pair in query.split(separator: "&") where !pair.isEmpty {
                let kv = pair.split(separator: "=", maxSplits: 1)
                let key = String(kv[0])
                guard kv.count == 2, let value = percentDecode(kv[1]) else {
                    throw fail("query parameter '\(key)' needs a value")
                }
                func number() throws(AMQPError) -> Int {
                    guard let n = Int(value), n >= 0 else { throw fail("'\(key)' must be a whole number, got '\(value)'") }
                    return n
                }
                switch key {
                case "heartbeat": heartbeat = .seconds(try number())
                case "connection_timeout": connectTimeout = .milliseconds(try number())
                case "channel_max": channelMax = try number()
                case "frame_max": frameMax = try number()
                case "name", "connection_name": connectionName = value
                case "cacertfile": tlsSettings.caCertificatePath = value
                case "certfile": tlsSettings.certificatePath = value
                case "keyfile": tlsSettings.keyPath = value
                case "verify":
                    switch value {
                    case "verify_peer": tlsSettings.verifyPeer = true
                    case "verify_none":
                        tlsSettings.verifyPeer = false
                        tlsSettings.verifyHostname = false
                    default: throw fail("'verify' must be verify_peer or verify_none, got '\(value)'")
                    }
                default: throw fail("unknown query parameter '\(key)'")
                }
            }
        }

        /// Reads and writes ``tls`` as if it were set (for the TLS query parameters).
        private var tlsSettings: TLS {
            get { tls ?? TLS() }
            set { tls = newValue }
        }

        /// The URL of this configuration with the password replaced by `****`, safe to log.
        public var redactedURL: String {
            let scheme = tls == nil ? "amqp" : "amqps"
            let h = host.contains(":") ? "[\(host)]" : host
            return "\(scheme)://\(percentEncode(user)):****@\(h):\(port)/\(percentEncode(virtualHost))"
        }

        /// Masks the password of any AMQP URL (`amqp://user:****@host/...`), leaving the rest as it is.
        /// The one masker: every other place that prints a URL calls it.
        ///
        /// It works on text that is not a valid URL too, so that a refused URL can be shown in an
        /// error: without `://` (`user:pw@host`, `//user:pw@host`, `amqp:user:pw@host`), what lies
        /// between the first `:` and the last `@` is masked. When it cannot tell where the password
        /// ends (an `@` in the vhost, an unescaped `/`), it masks more rather than less. Text with no
        /// `:` before an `@` is returned unchanged.
        public static func redact(_ url: String) -> String {
            let start = url.firstRange(of: "://")?.upperBound ?? url.startIndex
            let rest = url[start...]
            guard let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") else { return url }
            return String(url[...colon]) + "****" + String(url[at...])
        }
    }
}

/// Decodes `%XX` escapes; `nil` when an escape is malformed or the result is not UTF-8.
private func percentDecode(_ text: Substring) -> String? {
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

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// Percent-encodes everything but unreserved URI characters.
private func percentEncode(_ text: String) -> String {
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
