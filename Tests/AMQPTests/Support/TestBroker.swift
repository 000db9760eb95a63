import AMQP
import Foundation
import WarrenTestSupport
import Testing

/// The RabbitMQ the broker tests run against: `WARREN_TEST_AMQP_URL` (set by `scripts/test`), else
/// a local default. Without a broker the broker suites are skipped, unless
/// `WARREN_TEST_REQUIRE_BROKER=1` (set by `scripts/test` and CI), which turns the skip into failures.
enum TestBroker {
    static let environment = ProcessInfo.processInfo.environment

    static var url: String { environment["WARREN_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F" }
    static var tlsURL: String? { environment["WARREN_TEST_AMQPS_URL"] }
    static var required: Bool { environment["WARREN_TEST_REQUIRE_BROKER"] == "1" }

    /// Whether broker suites run: a broker answers, or one is required.
    static let available: Bool = {
        if required { return true }
        return (try? AMQPConnection(configuration()))?.close() != nil
    }()

    static let skipReason: Comment = "needs RabbitMQ: run scripts/test, or set WARREN_TEST_AMQP_URL"

    static func configuration(heartbeat: Duration = .seconds(10)) -> AMQPConnection.Configuration {
        var c = try! AMQPConnection.Configuration(url: url)
        c.heartbeat = heartbeat
        c.connectTimeout = .seconds(5)
        return c
    }

    static func connect(heartbeat: Duration = .seconds(10)) throws -> AMQPConnection {
        try AMQPConnection(configuration(heartbeat: heartbeat))
    }

    /// A name no other test uses: `t-<what>-<random>`.
    static func uniqueName(_ what: String) -> String {
        "t-\(what)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs `rabbitmqctl` against the test broker's node; `nil` when the node is unknown
    /// (`WARREN_TEST_RABBITMQ_NODE` unset).
    static func rabbitmqctl(_ arguments: [String]) throws -> String? {
        guard let node = environment["WARREN_TEST_RABBITMQ_NODE"] else { return nil }
        return try RabbitMQCtl.run(node: node, arguments).output
    }
}

extension TestBroker {
    /// Makes the broker close the connection whose `connection_name` is `name` (only that one:
    /// suites run in parallel). `false` when the node is unknown.
    static func closeConnection(named name: String, reason: String) throws -> Bool {
        guard let listing = try rabbitmqctl(["list_connections", "pid", "client_properties"]) else { return false }
        let line = try #require(listing.split(separator: "\n").first { $0.contains(name) }, "no connection named \(name)")
        let pid = String(line.split(separator: "\t")[0])
        _ = try rabbitmqctl(["close_connection", pid, reason])
        return true
    }
}

extension AMQPConnection {
    /// Reads events until `match` returns a value, or fails the test after `timeout`.
    func waitFor<T>(_ what: String, timeout: Duration = .seconds(10), _ match: (AMQPEvent) -> T?) throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let event = try nextEvent(timeout: deadline - ContinuousClock.now), let value = match(event) {
                return value
            }
        }
        throw AMQPError(.timeout, "no \(what) within \(timeout)")
    }

    /// The next delivery, or an error after `timeout`.
    func nextDelivery(timeout: Duration = .seconds(10)) throws -> AMQPDelivery {
        try waitFor("delivery", timeout: timeout) { if case .delivery(let d) = $0 { d } else { nil } }
    }
}
