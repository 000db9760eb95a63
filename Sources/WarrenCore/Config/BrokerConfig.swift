/// How to reach RabbitMQ: the `broker` block of the config.
///
/// ```yaml
/// broker:
///   url: amqp://guest:guest@127.0.0.1:5672/%2F   # or a list of URLs, tried in order
///   heartbeat: 30s
///   connection_name: billing-worker               # optional, shown in the management UI
///   password_file: /run/credentials/warren@billing.service/broker-password   # optional
///   tls: { ca: /etc/ssl/rabbit-ca.pem, cert: client.pem, key: client.key, verify: true }
/// ```
///
/// The environment variable `WARREN_BROKER_URL` replaces ``urls``, and
/// `WARREN_BROKER_PASSWORD_FILE` replaces ``passwordFile`` (see ``ConfigLoader``).
/// ``description`` masks every password.
public struct BrokerConfig: Sendable, Equatable, CustomStringConvertible {
    /// The brokers to connect to, in order: a child connects to the first and fails over to the
    /// next. Defaults to `amqp://guest:guest@127.0.0.1:5672/%2F`, a local RabbitMQ.
    public var urls: [BrokerURL]
    /// The AMQP heartbeat interval proposed to the broker, in whole seconds; zero turns
    /// heartbeats off. Defaults to 30 seconds.
    public var heartbeat: Duration
    /// The connection name shown by the broker (management UI, `rabbitmqctl list_connections`),
    /// or `nil` to let the runtime choose one.
    public var connectionName: String?
    /// Certificates for `amqps://` URLs, or `nil` for the system's trust store and no client
    /// certificate.
    public var tls: TLS?
    /// A file holding the broker password (its trailing line break left out), or `nil`.
    ///
    /// ``ConfigLoader`` reads it and puts the password in every URL of ``urls``, in place of the
    /// one written there, so that the password need not be in the config or the environment: for
    /// example a systemd credential, `$CREDENTIALS_DIRECTORY/broker-password`. Setting this
    /// property on a loaded configuration reads nothing.
    public var passwordFile: String?

    /// The default broker URL: a local RabbitMQ with its default user, on the default vhost.
    public static let defaultURL = "amqp://guest:guest@127.0.0.1:5672/%2F"

    /// Creates a broker configuration; every argument has the documented default.
    public init(
        urls: [BrokerURL] = [BrokerURL(BrokerConfig.defaultURL)!],
        heartbeat: Duration = .seconds(30),
        connectionName: String? = nil,
        tls: TLS? = nil,
        passwordFile: String? = nil
    ) {
        self.urls = urls
        self.heartbeat = heartbeat
        self.connectionName = connectionName
        self.tls = tls
        self.passwordFile = passwordFile
    }

    /// TLS settings for `amqps://` connections: the `broker.tls` block.
    public struct TLS: Sendable, Equatable {
        /// A PEM file of the certificate authorities to trust, or `nil` for the system's.
        public var caFile: String?
        /// A PEM client certificate, for brokers that authenticate clients by certificate.
        /// Goes with ``keyFile``.
        public var certificateFile: String?
        /// The PEM private key of ``certificateFile``.
        public var keyFile: String?
        /// Whether to check the broker's certificate and host name. Defaults to `true`;
        /// turn it off only for a test broker.
        public var verify: Bool

        /// Creates TLS settings; every argument has the documented default.
        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, verify: Bool = true) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.verify = verify
        }
    }

    /// The URLs (passwords masked) and the heartbeat, for example
    /// `amqp://guest:****@127.0.0.1:5672/%2F (heartbeat 30s)`; the password file by its path.
    public var description: String {
        var text = urls.map(\.description).joined(separator: ", ") + " (heartbeat \(heartbeat.humanReadable)"
        if let connectionName { text += ", name \"\(connectionName)\"" }
        if let passwordFile { text += ", password from \(passwordFile)" }
        if urls.contains(where: \.usesTLS) { text += tls?.verify == false ? ", TLS NOT VERIFIED (verify: false)" : ", tls verified" }
        return text + ")"
    }
}
