import AMQP
import Dispatch
import Foundation
import Logging
import Synchronization

/// Runs every configured queue's children in this process: declares the topology, starts the
/// children, restarts one whose connection failed (with backoff), and on SIGTERM or SIGINT shuts
/// them down warmly. (The supervisor issue moves children into processes of their own.)
public struct WorkerRuntime: Sendable {
    let configuration: WarrenConfiguration
    let registry: TaskRegistry
    let logger: Logger

    /// A runtime for `configuration` and the handlers of `registry`.
    public init(configuration: WarrenConfiguration, registry: TaskRegistry, logger: Logger) {
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
    }

    /// Declares the topology on the broker and logs what changed. Returns the route table.
    @discardableResult
    public static func declareTopology(configuration: WarrenConfiguration, taskNames: [String], logger: Logger) async throws
        -> RouteTable
    {
        let topology = Topology(configuration: configuration, taskNames: taskNames)
        let io = try await AMQPConnectionThread(
            configuration.broker.connectionConfiguration(name: "\(ProcessInfo.processInfo.processName) topology"),
            name: "amqp-topology")
        defer { Task { await io.close() } }
        let diff = try await io.perform { connection throws(AMQPError) in
            try topology.declare(on: connection.openChannel())
        }
        await io.close()
        for b in diff.unbind { logger.info("binding removed", metadata: ["binding": "\(b)"]) }
        for b in diff.bind { logger.info("binding added", metadata: ["binding": "\(b)"]) }
        for task in topology.routes.unrouted {
            logger.warning("task matches no route: only direct publishes to a queue reach it", metadata: ["task.name": "\(task)"])
        }
        return topology.routes
    }

    /// Runs until SIGTERM or SIGINT, then shuts down warmly and returns.
    public func run() async throws {
        logger.info("starting", metadata: ["broker": "\(configuration.broker)", "tasks": "\(registry.names.count)"])
        try await Self.declareTopology(configuration: configuration, taskNames: registry.names, logger: logger)
        let total = configuration.queues.reduce(0) { $0 + $1.children }
        let ready = ReadyCounter(total: total) { [logger] in logger.info("ready: every child is consuming", metadata: ["children": "\(total)"]) }

        let signals = ShutdownSignals()
        await withTaskGroup(of: Void.self) { group in
            for queue in configuration.queues {
                for slot in 1...queue.children {
                    let child = ChildWorker(queue: queue, configuration: configuration, registry: registry, slot: slot, logger: logger)
                    group.addTask { await Self.supervise(child, ready: ready, logger: logger) }
                }
            }
            await signals.first()
            logger.info("shutting down warmly (a second signal stops at once)")
            group.cancelAll()
            Task {
                await signals.first()
                logger.warning("second signal: stopping now; unacknowledged tasks go back to their queues")
                exit(1)
            }
        }
        logger.info("stopped")
    }

    /// Keeps one child running: restarts it after a failure, waiting longer each time it fails
    /// soon after starting (1 s, 2 s, ... 30 s).
    static func supervise(_ child: ChildWorker, ready: ReadyCounter, logger: Logger) async {
        var backoff = Duration.seconds(1)
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                try await child.run(onReady: { ready.childReady() })
                return  // warm shutdown
            } catch {
                if Task.isCancelled { return }
                if ContinuousClock.now - started > .seconds(60) { backoff = .seconds(1) }
                logger.error("child failed; restarting", metadata: [
                    "queue": "\(child.queue.name)", "child": "\(child.slot)", "error": "\(error)", "restart.in": "\(backoff.secondsText)",
                ])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(30))
            }
        }
    }
}

/// Calls `onAllReady` once when `total` children reported ready.
final class ReadyCounter: Sendable {
    private let state: Mutex<Int>
    private let onAllReady: @Sendable () -> Void
    init(total: Int, onAllReady: @escaping @Sendable () -> Void) {
        state = Mutex(total)
        self.onAllReady = onAllReady
    }
    func childReady() {
        let done = state.withLock { left -> Bool in
            left -= 1
            return left == 0
        }
        if done { onAllReady() }
    }
}

/// SIGTERM and SIGINT as "stop" requests (libdispatch reads them through a signalfd on Linux;
/// the signals are not ignored or re-handled anywhere else).
///
/// `@unchecked Sendable`: `sources` is written once in `init` and only kept to keep the
/// dispatch sources alive; `stream` is Sendable.
final class ShutdownSignals: @unchecked Sendable {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init() {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.stream = stream
        sources = [SIGTERM, SIGINT].map { signo in
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler { continuation.yield(signo) }
            source.resume()
            return source
        }
    }

    /// Waits for the next SIGTERM or SIGINT (call it from one task at a time).
    func first() async {
        var it = stream.makeAsyncIterator()
        _ = await it.next()
    }
}
