import AMQP

extension BrokerConfig {
    /// The AMQP connection settings for the `index`-th broker URL (wrapping around the list,
    /// so callers can fail over by counting up).
    /// - Parameter name: The connection name the broker shows, e.g. `warren-demo latency #1`.
    public func connectionConfiguration(index: Int = 0, name: String) -> AMQPConnection.Configuration {
        let url = urls[index % urls.count]
        var c = AMQPConnection.Configuration()
        c.host = url.host
        c.port = url.port
        c.user = url.user
        c.password = url.password
        c.virtualHost = url.virtualHost
        c.heartbeat = heartbeat
        c.connectionName = connectionName.map { "\($0) \(name)" } ?? name
        if url.usesTLS {
            c.tls = AMQPConnection.Configuration.TLS(
                caCertificatePath: tls?.caFile, certificatePath: tls?.certificateFile, keyPath: tls?.keyFile,
                verifyPeer: tls?.verify ?? true, verifyHostname: tls?.verify ?? true)
        }
        return c
    }
}
