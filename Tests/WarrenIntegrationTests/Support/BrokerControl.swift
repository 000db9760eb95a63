import Foundation
import WarrenTestSupport

/// `rabbitmqctl` against the test broker's node (`WARREN_TEST_RABBITMQ_NODE`, which
/// `scripts/broker env` exports), run off the cooperative pool.
enum BrokerControl {
    /// Whether the node is known; tests that need `rabbitmqctl` fail without it when the broker
    /// is required, and skip otherwise.
    static var node: String? { IntegrationBroker.environment["WARREN_TEST_RABBITMQ_NODE"] }

    /// Runs `rabbitmqctl -q -n <node> arguments...` and returns its standard output.
    static func run(_ arguments: [String], node: String? = BrokerControl.node) async throws -> String {
        guard let node else { throw WorkerTestError("WARREN_TEST_RABBITMQ_NODE is not set (see scripts/broker env)") }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        let (status, output) = try RabbitMQCtl.run(node: node, arguments)
                        guard status == 0 else {
                            throw WorkerTestError("rabbitmqctl \(arguments.joined(separator: " ")) exited \(status)")
                        }
                        return output
                    })
            }
        }
    }

    /// The Erlang pids of the connections whose name contains `text` (suites run in parallel:
    /// never touch another test's connections).
    static func connections(named text: String) async throws -> [String] {
        let listing = try await run(["list_connections", "pid", "client_properties"])
        return listing.split(separator: "\n").filter { $0.contains(text) }.map { String($0.split(separator: "\t")[0]) }
    }

    /// Makes the broker close every connection whose name contains `text`; returns how many.
    @discardableResult
    static func closeConnections(named text: String, reason: String = "closed by a test") async throws -> Int {
        let pids = try await connections(named: text)
        for pid in pids { _ = try await run(["close_connection", pid, reason]) }
        return pids.count
    }
}
