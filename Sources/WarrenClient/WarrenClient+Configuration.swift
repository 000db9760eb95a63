import WarrenCore

extension WarrenClient {
    /// Where a client sends tasks and how it keeps its connection.
    public struct Configuration: Sendable {
        /// The brokers, tried in order, with heartbeat and TLS.
        public var broker: BrokerConfig
        /// The topic exchange the workers bind their tasks to (their config's `exchange`).
        public var exchange: String
        /// The connection name the broker shows (the pid is added).
        public var connectionName: String
        /// Once the connection is lost, how long a send keeps trying to reach a broker (100 ms
        /// doubling to 5 s between attempts) before it throws `unreachable`.
        public var reconnectPatience: Duration
        /// How long the broker keeps the client's reply queue once nothing consumes it: results
        /// that come while the client reconnects wait there, and a client gone for good leaves
        /// no queue behind.
        public var replyQueueExpiry: Duration
        /// The most results kept that came before anyone awaited them.
        public var maxUnclaimedResults: Int

        /// A configuration; every argument but the broker has a default.
        public init(
            broker: BrokerConfig = BrokerConfig(), exchange: String = WarrenConfiguration.defaultExchange,
            connectionName: String = "warren client", reconnectPatience: Duration = .seconds(30),
            replyQueueExpiry: Duration = .seconds(600), maxUnclaimedResults: Int = 10_000
        ) {
            self.broker = broker
            self.exchange = exchange
            self.connectionName = connectionName
            self.reconnectPatience = reconnectPatience
            self.replyQueueExpiry = replyQueueExpiry
            self.maxUnclaimedResults = maxUnclaimedResults
        }

        /// A configuration for the broker at `url` (`amqp://` or `amqps://`).
        /// - Throws: ``WarrenClientError`` (`unreachable`) naming what is wrong with the URL
        ///   (its password masked).
        public init(url: String, exchange: String = WarrenConfiguration.defaultExchange) throws {
            guard let parsed = BrokerURL(url) else {
                throw WarrenClientError(.unreachable, "not an AMQP URL: \(BrokerURL.maskingPassword(in: url))")
            }
            self.init(broker: BrokerConfig(urls: [parsed]), exchange: exchange)
        }

        /// The broker and exchange of a worker's config (the same YAML file the workers read).
        public init(_ configuration: WarrenConfiguration, connectionName: String = "warren client") {
            self.init(broker: configuration.broker, exchange: configuration.exchange, connectionName: connectionName)
        }
    }
}
