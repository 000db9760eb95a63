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

    /// Reads `string` with the AMQP module's parser (``AMQP/AMQPURL``), then the config's own
    /// rules: a host is required, and query parameters are refused (the config has keys for
    /// them). A failure says what is wrong.
    static func parse(_ string: String) -> Result<BrokerURL, HumanValueFailure> {
        let parts: AMQPURL
        switch AMQPURL.parse(string) {
        case .success(let p): parts = p
        case .failure(let problem): return .failure(HumanValueFailure(detail: problem.detail))
        }
        if !parts.query.isEmpty {
            return .failure(HumanValueFailure(detail: "query parameters are not supported; set broker.heartbeat and broker.tls instead"))
        }
        guard !parts.host.isEmpty else { return .failure(HumanValueFailure(detail: "the host is missing")) }
        return .success(
            BrokerURL(
                usesTLS: parts.usesTLS, user: parts.user ?? "guest", password: parts.password ?? "guest", host: parts.host,
                port: parts.port ?? (parts.usesTLS ? 5671 : 5672), virtualHost: parts.virtualHost ?? "/", unmaskedString: string))
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
            unmaskedString[..<schemeEnd.upperBound] + AMQPURL.percentEncoded(user) + ":" + AMQPURL.percentEncoded(password) + "@"
            + rest[hostStart...]
        return url
    }
}
