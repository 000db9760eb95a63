import AMQP
import Foundation
import Testing
import Warren

/// The broker for integration tests; see Tests/AMQPTests/Support/TestBroker.swift for the rules
/// (skipped without a broker unless `WARREN_TEST_REQUIRE_BROKER=1`, which `scripts/test` sets).
enum IntegrationBroker {
    static let environment = ProcessInfo.processInfo.environment
    static var url: String { environment["WARREN_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F" }
    static var required: Bool { environment["WARREN_TEST_REQUIRE_BROKER"] == "1" }
    static let available: Bool = {
        if required { return true }
        guard var c = try? AMQPConnection.Configuration(url: url) else { return false }
        c.connectTimeout = .seconds(2)
        return (try? AMQPConnection(c))?.close() != nil
    }()
    static let skipReason: Comment = "needs RabbitMQ: run scripts/test, or set WARREN_TEST_AMQP_URL"

    static func connect() throws -> AMQPConnection {
        try AMQPConnection(AMQPConnection.Configuration(url: url))
    }
}

/// A configuration like Config/warren.yaml, with every exchange and queue name under a unique
/// prefix so that tests do not see each other's messages.
struct TestSetup {
    let prefix: String
    let yaml: String
    let path: String

    var exchange: String { prefix }
    func queue(_ name: String) -> String { "\(prefix).\(name)" }
    var deadLetterQueue: String { "\(prefix).dead" }
    var unroutedQueue: String { "\(prefix).unrouted" }
    /// The supervisor's Celery node name: unique, so that tests running at once do not clash.
    var nodeName: String { "warren@\(prefix)" }

    /// - Parameters:
    ///   - latency, slow, bigmem, other: each queue's settings, as YAML lines (`key: value`).
    ///   - metrics: where the supervisor serves its metrics; none when nil.
    ///   - extra: more top-level YAML, appended (`schedules:` ...); `PREFIX` in it becomes the prefix.
    init(
        heartbeat: String = "10s", latency: [String] = ["children: 2", "prefetch: 8"], slow: [String] = ["prefetch: 1"],
        bigmem: [String] = ["prefetch: 1"], other: [String] = [], metrics: ListenAddress? = nil, extra: String = ""
    ) throws {
        prefix = "t\(UUID().uuidString.prefix(8).lowercased())"
        let p = prefix
        func settings(_ lines: [String]) -> String { lines.map { "\n    \($0)" }.joined() }
        yaml = """
            broker:
              url: \(IntegrationBroker.url)
              heartbeat: \(heartbeat)
            exchange: \(p)
            node_name: warren@\(p)
            queues:
              \(p).latency:
                routes: ["demo.noop", "demo.add", "demo.echo"]\(settings(latency))
              \(p).slow:
                routes: ["demo.sleep"]\(settings(slow))
              \(p).bigmem:
                routes: ["demo.alloc"]\(settings(bigmem))
              \(p).default:
                routes: ["#"]\(settings(other))
            retry:
              max_attempts: 3
              backoff: { initial: 200ms, multiplier: 2, max: 1s, jitter: 0 }
            dead_letter:
              queue: \(p).dead
            unrouted:
              queue: \(p).unrouted
            metrics:
              enabled: \(metrics != nil)
              listen: \(metrics ?? ListenAddress(host: "127.0.0.1", port: 9464))
            log:
              level: debug

            """ + extra.replacingOccurrences(of: "PREFIX", with: p)
        path = FileManager.default.temporaryDirectory.appendingPathComponent("\(p).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func configuration() throws -> WarrenConfiguration {
        try ConfigLoader.load(path: path, environment: [:])
    }

    /// Deletes this setup's queues and exchanges (on the broker at `url`).
    func tearDown(url: String = IntegrationBroker.url) {
        guard let connection = try? AMQPConnection(AMQPConnection.Configuration(url: url)), let channel = try? connection.openChannel()
        else { return }
        defer { connection.close() }
        for q in ["latency", "slow", "bigmem", "default", "dead", "unrouted", "bindings", "scheduler", "scheduler.state", "fires"] {
            _ = try? channel.deleteQueue(queue(q))
        }
        for e in [exchange, "\(prefix).unrouted", "\(prefix).wait", "\(prefix).delayed"] { try? channel.deleteExchange(e) }
        try? FileManager.default.removeItem(atPath: path)
    }
}
