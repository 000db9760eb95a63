import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Serves ``WarrenMetrics`` at `GET /metrics` (Prometheus text format) from the supervisor.
///
/// HTTP is SwiftNIO's (NIOHTTP1), on an event loop thread of its own. A port that cannot be
/// bound is logged as an error and the supervisor runs on without metrics: tasks matter more
/// than their figures.
final class MetricsServer: Sendable {
    private let metrics: WarrenMetrics
    private let logger: Logger
    /// While serving: the event loop and the listening socket.
    private let serving = Mutex<(group: MultiThreadedEventLoopGroup, channel: any Channel)?>(nil)

    init(metrics: WarrenMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    /// Starts listening on `listen` and returns once it listens (or failed, which is logged).
    func start(listen: ListenAddress) async {
        let address: SocketAddress
        do {
            address = try listen.socketAddress()
        } catch {
            logger.error("metrics: not served", metadata: ["listen": "\(listen)", "error": "\(error)"])
            return
        }
        // One thread is plenty for a scrape every few seconds.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let metrics = self.metrics
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(metrics: metrics))
                    }
                }
                .bind(to: address)
                .get()
            serving.withLock { $0 = (group, channel) }
            logger.info("metrics served", metadata: ["url": "http://\(listen)/metrics"])
        } catch {
            logger.error("metrics: cannot serve", metadata: ["listen": "\(listen)", "error": "\(error)"])
            try? await group.shutdownGracefully()
        }
    }

    /// The port it listens on (nil when not serving): the one bound when `listen` named port 0.
    var localPort: Int? {
        serving.withLock { $0?.channel.localAddress?.port }
    }

    /// Stops listening; connections being answered are closed.
    func stop() {
        guard let (group, channel) = serving.withLock({ state in defer { state = nil }; return state }) else { return }
        channel.close(promise: nil)
        group.shutdownGracefully { _ in }
    }
}
