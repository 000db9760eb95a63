import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import WarrenCore

/// Serves ``WarrenMetrics`` at `GET /metrics` (Prometheus text format) from the supervisor.
///
/// HTTP is SwiftNIO's (NIOHTTP1), on an event loop thread of its own. A port that cannot be
/// bound is logged as an error and the supervisor runs on without metrics: tasks matter more
/// than their figures.
///
/// Whoever reaches the port is not trusted to be polite: at most ``maxConnections`` are open at
/// once (more are closed as soon as they are accepted), and each must send a whole request
/// within ``requestTimeout`` of connecting or of its previous answer, however slowly it trickles
/// bytes. So slow or idle clients hold a bounded number of descriptors for a bounded time, and
/// the supervisor always has descriptors left for what matters more: the pipes of a child it
/// restarts.
final class MetricsServer: Sendable {
    private let metrics: WarrenMetrics
    private let logger: Logger
    /// While serving: the event loop and the listening socket.
    private let serving = Mutex<(group: MultiThreadedEventLoopGroup, channel: any Channel)?>(nil)
    /// Connections open at once, at most; Prometheus needs one, `status` one per call.
    let maxConnections: Int
    /// How long a connection may take to send a whole request.
    let requestTimeout: TimeAmount
    private let open = Mutex(0)

    init(metrics: WarrenMetrics, logger: Logger, maxConnections: Int = 32, requestTimeout: TimeAmount = .seconds(10)) {
        self.metrics = metrics
        self.logger = logger
        self.maxConnections = maxConnections
        self.requestTimeout = requestTimeout
    }

    /// Counts a new connection in; `false` (and not counted) when ``maxConnections`` are open.
    private func admit() -> Bool {
        open.withLock { n in
            guard n < maxConnections else { return false }
            n += 1
            return true
        }
    }

    private func release() { open.withLock { $0 -= 1 } }

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
        let (metrics, timeout) = (self.metrics, requestTimeout)
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { [self] channel in
                    guard admit() else { return channel.close() }  // one too many: no descriptor kept
                    channel.closeFuture.whenComplete { _ in self.release() }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(metrics: metrics, requestTimeout: timeout))
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
        guard
            let (group, channel) = serving.withLock({ state in
                defer { state = nil }; return state
            })
        else { return }
        channel.close(promise: nil)
        group.shutdownGracefully { _ in }
    }
}
