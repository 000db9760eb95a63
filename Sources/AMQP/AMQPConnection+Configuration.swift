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
            let parts: AMQPURL
            switch AMQPURL.parse(url) {
            case .success(let p): parts = p
            case .failure(let problem): throw fail(problem.detail)
            }
            if parts.usesTLS {
                tls = TLS()
                port = 5671
            }
            if let u = parts.user { user = u }
            if let p = parts.password { password = p }
            if !parts.host.isEmpty { host = parts.host }
            if let p = parts.port { port = p }
            if let v = parts.virtualHost { virtualHost = v }
            for item in parts.query {
                let key = item.key
                guard let value = item.value else { throw fail("query parameter '\(key)' needs a value") }
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
            return "\(scheme)://\(AMQPURL.percentEncoded(user)):****@\(h):\(port)/\(AMQPURL.percentEncoded(virtualHost))"
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
