import AMQP
import Foundation

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
                caCertificatePath: tls?.caFile ?? Self.systemTrustStore, certificatePath: tls?.certificateFile, keyPath: tls?.keyFile,
                verifyPeer: tls?.verify ?? true, verifyHostname: tls?.verify ?? true)
        }
        return c
    }

    /// Connects a connection thread to the first broker that answers, trying the URLs in order
    /// from `start` (children pass their slot, so they spread over a cluster's nodes).
    /// - Throws: the last broker's error when none answers.
    public func connect(name: String, threadName: String, start: Int = 0) async throws(AMQPError) -> AMQPConnectionThread {
        try await connectAny(name: name, threadName: threadName, start: start).connection
    }

    /// ``connect(name:threadName:start:)``, also saying which URL answered (its index in
    /// ``urls``), so that a reconnection can start with the node after it.
    package func connectAny(
        name: String, threadName: String, start: Int, ackCoalescing: AMQPConnectionThread.AckCoalescing = .none
    ) async throws(AMQPError)
        -> (connection: AMQPConnectionThread, index: Int)
    {
        var lastError = AMQPError(.connectionFailed, "no broker URL configured")
        for i in 0..<urls.count {
            let index = (start + i) % urls.count
            do throws(AMQPError) {
                return (
                    try await AMQPConnectionThread(
                        connectionConfiguration(index: index, name: name), name: threadName, ackCoalescing: ackCoalescing),
                    index
                )
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Debian's bundle of trusted CAs (package ca-certificates), used for `amqps://` without a
    /// `ca` file: librabbitmq 0.11 does not load the system's trust store by itself.
    static let systemTrustStore: String? = {
        let path = "/etc/ssl/certs/ca-certificates.crt"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }()
}
