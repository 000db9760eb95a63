import FlyingFox
import FlyingSocks
import Foundation
import Logging
import Synchronization

/// Serves ``WarrenMetrics`` at `GET /metrics` (Prometheus text format) from the supervisor.
///
/// HTTP is FlyingFox's. A port that cannot be bound is logged as an error and the supervisor
/// runs on without metrics: tasks matter more than their figures.
final class MetricsServer: Sendable {
    private let metrics: WarrenMetrics
    private let logger: Logger
    private let server = Mutex<HTTPServer?>(nil)

    init(metrics: WarrenMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    /// Starts listening on `listen` and returns once it listens (or failed, which is logged).
    func start(listen: ListenAddress) async {
        let address: any SocketAddress
        do {
            address = try Self.socketAddress(listen)
        } catch {
            logger.error("metrics: not served", metadata: ["listen": "\(listen)", "error": "\(error)"])
            return
        }
        let server = HTTPServer(address: address, logger: FlyingFoxLogger(logger))
        let metrics = self.metrics
        await server.appendRoute("GET /metrics") { _ in
            HTTPResponse(
                statusCode: .ok, headers: [HTTPHeader("Content-Type"): "text/plain; version=0.0.4; charset=utf-8"],
                body: Data(metrics.exposition()))
        }
        await server.appendRoute("GET /") { _ in
            HTTPResponse(statusCode: .ok, headers: [HTTPHeader("Content-Type"): "text/plain"], body: Data("Warren: see /metrics\n".utf8))
        }
        self.server.withLock { $0 = server }
        let logger = self.logger
        let running = Task {
            do {
                try await server.run()
            } catch {
                logger.error("metrics: cannot serve", metadata: ["listen": "\(listen)", "error": "\(error)"])
            }
        }
        do {
            try await server.waitUntilListening(timeout: 5)
            logger.info("metrics served", metadata: ["url": "http://\(listen)/metrics"])
        } catch {
            running.cancel()
        }
    }

    /// Stops listening.
    func stop() {
        guard let server = server.withLock({ $0 }) else { return }
        Task { await server.stop() }
    }

    /// An IP address as FlyingFox takes it; `localhost` is the IPv4 loopback. Host names are not
    /// resolved (that blocks, and a metrics port should not depend on DNS).
    static func socketAddress(_ listen: ListenAddress) throws -> any SocketAddress {
        let port = UInt16(listen.port)
        switch listen.host {
        case "localhost": return try sockaddr_in.inet(ip4: "127.0.0.1", port: port)
        case let host where host.contains(":"): return try sockaddr_in6.inet6(ip6: host, port: port)
        default:
            guard listen.host.allSatisfy({ $0.isNumber || $0 == "." }) else {
                throw WorkerError("metrics.listen needs an IP address or localhost, not the host name '\(listen.host)'")
            }
            return try sockaddr_in.inet(ip4: listen.host, port: port)
        }
    }
}

/// FlyingFox's log lines, through swift-log: its per-connection chatter at debug level.
private struct FlyingFoxLogger: FlyingSocks.Logging {
    let logger: Logger
    init(_ logger: Logger) {
        var logger = logger
        logger[metadataKey: "component"] = "metrics"
        self.logger = logger
    }
    func logDebug(_ debug: @autoclosure () -> String) { logger.trace("\(debug())") }
    func logInfo(_ info: @autoclosure () -> String) { logger.debug("\(info())") }
    func logWarning(_ warning: @autoclosure () -> String) { logger.warning("\(warning())") }
    func logError(_ error: @autoclosure () -> String) { logger.error("\(error())") }
    func logCritical(_ critical: @autoclosure () -> String) { logger.critical("\(critical())") }
}
