import AMQP
import Foundation
import Logging
import WarrenCore

extension Topology {
    /// Connects, declares the topology of `configuration` for `taskNames`, and logs what changed.
    @discardableResult
    package static func declare(configuration: WarrenConfiguration, taskNames: [String], logger: Logger) async throws -> Topology {
        let topology = Topology(configuration: configuration, taskNames: taskNames)
        let io = try await configuration.broker.connect(
            name: "\(ProcessInfo.processInfo.processName) topology", threadName: "amqp-topology")
        let diff: BindingDiff
        do {
            diff = try await io.perform { connection throws(AMQPError) in try topology.declare(on: connection.openChannel()) }
        } catch {
            await io.close()
            throw error
        }
        await io.close()
        for b in diff.unbind { logger.info("binding removed", metadata: ["binding": "\(b)"]) }
        for b in diff.bind { logger.info("binding added", metadata: ["binding": "\(b)"]) }
        for task in topology.routes.unrouted {
            logger.warning("task matches no route: only direct publishes to a queue reach it", metadata: ["task.name": "\(task)"])
        }
        return topology
    }
}
