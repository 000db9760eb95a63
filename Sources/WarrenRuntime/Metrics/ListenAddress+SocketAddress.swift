import NIOCore
import WarrenCore

extension ListenAddress {
    /// The address to bind or connect to; `localhost` is the IPv4 loopback.
    ///
    /// Host names are not resolved: that blocks, and a metrics port should not depend on DNS.
    /// - Throws: when the host is neither an IP address nor `localhost`.
    func socketAddress() throws -> SocketAddress {
        let ip = host == "localhost" ? "127.0.0.1" : host
        do {
            return try SocketAddress(ipAddress: ip, port: port)
        } catch {
            throw WorkerError(.invalidSetting, "metrics.listen needs an IP address or localhost, not the host name '\(host)'")
        }
    }
}
