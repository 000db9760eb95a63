import AMQP
import Foundation
import Logging
import Synchronization
import WarrenCore

/// The supervisor's look at the broker for the metrics: every few seconds, the depth and
/// consumers of each work queue, the dead-letter and the unrouted queue
/// (`warren_queue_messages`, `warren_queue_consumers`), and whether the broker answers
/// (`warren_broker_up`). Its connection is its own and is made again after a failure.
final class QueueProbe: Sendable {
    private let metrics: WarrenMetrics
    private let logger: Logger
    private let interval: Duration
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(metrics: WarrenMetrics, logger: Logger, interval: Duration = .seconds(5)) {
        self.metrics = metrics
        self.logger = logger
        self.interval = interval
    }

    /// Starts looking, now and every `interval` (the queues of `configuration`).
    func start(configuration: WarrenConfiguration) {
        let (metrics, logger, interval) = (self.metrics, self.logger, self.interval)
        let names = configuration.queues.map(\.name) + [configuration.deadLetterQueue, configuration.unroutedQueue]
        let looking = Task {
            var io: AMQPConnectionThread?
            var warned = false
            while !Task.isCancelled {
                do throws(AMQPError) {
                    if io == nil || io?.failure != nil {
                        await io?.close()
                        io = nil
                        io = try await configuration.broker.connect(
                            name: "\(ProcessInfo.processInfo.processName) metrics pid \(getpid())", threadName: "amqp-metrics")
                    }
                    for (name, counts) in try await QueueCounts.read(names, on: io!) {
                        metrics.queue(name, messages: counts.messages, consumers: counts.consumers)
                    }
                    metrics.brokerUp(true)
                    warned = false
                } catch {
                    metrics.brokerUp(false)
                    if !warned { logger.warning("metrics: cannot read queue depths", metadata: ["error": "\(error)"]) }
                    warned = true
                }
                try? await Task.sleep(for: interval)
            }
            await io?.close()
        }
        task.withLock { $0 = looking }
    }

    /// Stops looking and closes the connection.
    func stop() {
        task.withLock { $0?.cancel() }
    }
}
