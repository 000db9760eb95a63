import Foundation
import Logging
import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Config loader: values and defaults")
struct ConfigLoaderTests {
    private func load(_ yaml: String, environment: [String: String] = [:]) throws -> WarrenConfiguration {
        try ConfigLoader.load(yaml: yaml, source: "t.yaml", environment: environment)
    }

    @Test("only queues is required; everything else has its default")
    func defaults() throws {
        let config = try load("queues:\n  default:\n")
        #expect(config.source == "t.yaml")
        #expect(config.broker.urls.map(\.unmaskedString) == ["amqp://guest:guest@127.0.0.1:5672/%2F"])
        #expect(config.broker.heartbeat == .seconds(30))
        #expect(config.broker.connectionName == nil)
        #expect(config.broker.tls == nil)
        #expect(config.exchange == "warren")
        #expect(
            config.retry
                == RetryPolicy(maxAttempts: 5, backoff: .init(initial: .seconds(1), multiplier: 2, max: .seconds(300), jitter: 0.2)))
        #expect(config.deadLetterQueue == "warren.dead")
        #expect(config.unroutedQueue == "warren.unrouted")
        #expect(config.metrics == MetricsConfig(enabled: true, listen: ListenAddress(host: "127.0.0.1", port: 9464)))
        #expect(config.log == LogConfig(level: .info, format: .text))
        #expect(config.shutdownTimeout == .seconds(60))
        #expect(config.maxMessageSize == .mebibytes(16))

        let queue = try #require(config.queues.first)
        #expect(queue == QueueConfig(name: "default"))
        #expect(queue.routes.isEmpty)
        #expect(queue.children == 1 && queue.concurrency == 1 && queue.prefetch == 4)
        #expect(queue.timeLimit == nil && queue.maxMemory == nil && queue.maxTasksPerChild == nil)
        #expect(queue.type == .classic && queue.retry == nil)
        #expect(config.retryPolicy(for: queue) == config.retry)
    }

    @Test("reads every key")
    func everyKey() throws {
        let config = try load(
            """
            broker:
              url: [amqps://app:s3cret@rabbit-1:5671/prod, "amqps://app:s3cret@rabbit-2/prod"]
              heartbeat: 15s
              connection_name: billing
              tls: { ca: /etc/ssl/ca.pem, cert: client.pem, key: client.key, verify: false }
            exchange: billing
            queues:
              fast:
                routes: ["notify.*", "auth.#"]
                children: 3
                prefetch: 16
                concurrency: 4
                time_limit: 1m30s
                max_memory: 1.5GiB
                max_tasks_per_child: 1000
                type: quorum
                retry: { max_attempts: 2, backoff: { initial: 250ms } }
            retry:
              max_attempts: 8
              backoff: { initial: 2s, multiplier: 3, max: 1h, jitter: 0 }
            dead_letter: { queue: billing.dead }
            unrouted: { queue: billing.unrouted }
            metrics: { enabled: no, listen: "[::1]:9100" }
            log: { level: debug, format: json }
            shutdown_timeout: 2m
            max_message_size: 64MB
            """)
        #expect(config.broker.urls.map(\.host) == ["rabbit-1", "rabbit-2"])
        #expect(config.broker.urls.allSatisfy { $0.usesTLS && $0.password == "s3cret" && $0.virtualHost == "prod" })
        #expect(config.broker.urls.map(\.port) == [5671, 5671])
        #expect(config.broker.heartbeat == .seconds(15))
        #expect(config.broker.connectionName == "billing")
        #expect(config.broker.tls == .init(caFile: "/etc/ssl/ca.pem", certificateFile: "client.pem", keyFile: "client.key", verify: false))
        #expect(config.exchange == "billing")
        #expect(
            config.retry == RetryPolicy(maxAttempts: 8, backoff: .init(initial: .seconds(2), multiplier: 3, max: .seconds(3600), jitter: 0))
        )
        #expect(config.deadLetterQueue == "billing.dead")
        #expect(config.unroutedQueue == "billing.unrouted")
        #expect(config.metrics == MetricsConfig(enabled: false, listen: ListenAddress(host: "::1", port: 9100)))
        #expect(config.log == LogConfig(level: .debug, format: .json))
        #expect(config.shutdownTimeout == .seconds(120))
        #expect(config.maxMessageSize == ByteSize(bytes: 64_000_000))

        let fast = try #require(config.queue(named: "fast"))
        #expect(fast.routes.map(\.description) == ["notify.*", "auth.#"])
        #expect(fast.children == 3 && fast.prefetch == 16 && fast.concurrency == 4)
        #expect(fast.timeLimit == .seconds(90))
        #expect(fast.maxMemory == ByteSize(bytes: 3 << 29))
        #expect(fast.maxTasksPerChild == 1000)
        #expect(fast.type == .quorum)
        // The queue's retry block overrides key by key; the rest comes from the top-level retry.
        #expect(
            config.retryPolicy(for: fast)
                == RetryPolicy(maxAttempts: 2, backoff: .init(initial: .milliseconds(250), multiplier: 3, max: .seconds(3600), jitter: 0)))
    }

    @Test("keeps the queues in the order of the file")
    func queueOrder() throws {
        let names = ["zeta", "alpha", "mid", "beta", "omega", "gamma", "delta", "aa"]
        let yaml = "queues:\n" + names.map { "  \($0):\n    routes: [\"\($0).#\"]\n" }.joined()
        #expect(try load(yaml).queues.map(\.name) == names)
    }

    @Test("prefetch defaults to 4 × concurrency")
    func prefetchFollowsConcurrency() throws {
        let config = try load("queues:\n  a: { concurrency: 3 }\n  b: { concurrency: 3, prefetch: 3 }\n")
        #expect(config.queues.map(\.prefetch) == [12, 3])
    }

    @Test("a broker URL may be a comma-separated list")
    func commaSeparatedURLs() throws {
        let config = try load("broker:\n  url: amqp://a, amqp://b:5673\nqueues: { q: }\n")
        #expect(config.broker.urls.map(\.description) == ["amqp://a", "amqp://b:5673"])
    }

    @Test("WARREN_BROKER_URL replaces broker.url, and may list several")
    func environmentOverride() throws {
        let yaml = "broker: { url: amqp://file-host }\nqueues: { q: }\n"
        let one = try load(yaml, environment: ["WARREN_BROKER_URL": "amqp://u:p@env-host/vh"])
        #expect(one.broker.urls.map(\.host) == ["env-host"])
        let two = try load(yaml, environment: ["WARREN_BROKER_URL": "amqps://n1 , amqps://n2"])
        #expect(two.broker.urls.map(\.host) == ["n1", "n2"])
        #expect(two.broker.urls.map(\.usesTLS) == [true, true])
        let empty = try load(yaml, environment: ["WARREN_BROKER_URL": "", "OTHER": "x"])
        #expect(empty.broker.urls.map(\.host) == ["file-host"])
    }

    /// Writes `text` to a fresh file; returns its path (removed by the caller).
    private func temporaryFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("password-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("broker.password_file: its text, trailing line break left out, is the password of every URL")
    func passwordFile() throws {
        let path = try temporaryFile("s3cr:t/@%\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = try load(
            """
            broker:
              url: ["amqp://app:old@n1/prod", "amqp://n2:5673", "amqp://ops@n3"]
              password_file: \(path)
            queues: { q: }
            """)
        #expect(config.broker.passwordFile == path)
        #expect(config.broker.urls.map(\.password) == ["s3cr:t/@%", "s3cr:t/@%", "s3cr:t/@%"])
        #expect(config.broker.urls.map(\.user) == ["app", "guest", "ops"])
        #expect(config.broker.urls.map(\.host) == ["n1", "n2", "n3"])
        #expect(config.broker.urls.map(\.virtualHost) == ["prod", "/", "/"])
        // What is handed to the client: the new password, percent-encoded, which parses back.
        #expect(config.broker.urls[0].unmaskedString == "amqp://app:s3cr%3At%2F%40%25@n1/prod")
        #expect(config.broker.urls.map { BrokerURL($0.unmaskedString) } == config.broker.urls)
        #expect(config.broker.connectionConfiguration(index: 2, name: "x").password == "s3cr:t/@%")
        // Shown masked, with the file's path, never the password.
        #expect(config.broker.urls.map(\.description) == ["amqp://app:****@n1/prod", "amqp://guest:****@n2:5673", "amqp://ops:****@n3"])
        for text in [config.describe(), config.broker.description, "\(config)"] {
            #expect(!text.contains("s3cr"), "\(text)")
            #expect(text.contains(path), "\(text)")
        }
        #expect(config.describe().contains("\n  password_file: \"\(path)\"\n  heartbeat: 30s\n"))
        // describe() loads back, reading the file again.
        let reloaded = try load(config.describe())
        #expect(reloaded.broker.passwordFile == path)
        #expect(reloaded.broker.urls.map(\.password) == config.broker.urls.map(\.password))

        // CRLF and several line breaks at the end are left out too; other whitespace is kept.
        try " pass word \r\n\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try load("broker: { password_file: \(path) }\nqueues: { q: }\n").broker.urls.map(\.password) == [" pass word "])
        // Without the key, nothing is read and the URL's password stands.
        #expect(try load("queues: { q: }\n").broker.passwordFile == nil)
        #expect(try load("broker: { password_file: null }\nqueues: { q: }\n").broker.urls.map(\.password) == ["guest"])
    }

    @Test("WARREN_BROKER_PASSWORD_FILE replaces broker.password_file and applies to WARREN_BROKER_URL's URLs")
    func passwordFileFromEnvironment() throws {
        let path = try temporaryFile("from-credential\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let yaml = "broker: { url: amqp://file-host, password_file: /nonexistent/password }\nqueues: { q: }\n"
        let config = try load(
            yaml, environment: ["WARREN_BROKER_PASSWORD_FILE": path, "WARREN_BROKER_URL": "amqp://w:inline@e1, amqp://w@e2"])
        #expect(config.broker.passwordFile == path)
        #expect(config.broker.urls.map(\.host) == ["e1", "e2"])
        #expect(config.broker.urls.map(\.password) == ["from-credential", "from-credential"])
        #expect(!config.describe().contains("from-credential") && !config.describe().contains("inline"))
        // Empty counts as unset: the file's key applies (and this one does not exist).
        #expect(throws: ConfigurationError.self) { try load(yaml, environment: ["WARREN_BROKER_PASSWORD_FILE": ""]) }
        #expect(try load("queues: { q: }\n", environment: ["WARREN_BROKER_PASSWORD_FILE": ""]).broker.passwordFile == nil)
    }

    @Test("the config path comes from WARREN_CONFIG, else Config/warren.yaml")
    func defaultPath() {
        #expect(ConfigLoader.defaultPath(environment: [:]) == "Config/warren.yaml")
        #expect(ConfigLoader.defaultPath(environment: ["WARREN_CONFIG": ""]) == "Config/warren.yaml")
        #expect(ConfigLoader.defaultPath(environment: ["WARREN_CONFIG": "/etc/warren.yaml"]) == "/etc/warren.yaml")
    }

    @Test("values are read from their text: 010 is ten, quoted numbers are numbers, null means the default")
    func lenientScalars() throws {
        let config = try load(
            """
            exchange: 42
            queues:
              q:
                children: 010
                prefetch: "12"
                time_limit: ~
                routes: "#"
            log: { level: WARNING }
            """)
        #expect(config.exchange == "42")
        let queue = try #require(config.queues.first)
        #expect(queue.children == 10 && queue.prefetch == 12)
        #expect(queue.timeLimit == nil)
        #expect(queue.routes.map(\.description) == ["#"])
        #expect(config.log.level == .warning)
    }

    @Test("anchors and aliases work")
    func aliases() throws {
        let config = try load(
            """
            queues:
              a: &small { children: 2, prefetch: 2 }
              b: *small
            """)
        #expect(config.queues.map(\.children) == [2, 2])
    }

    @Test("describe() prints every resolved value, masked, as YAML that loads back")
    func describeRoundTrips() throws {
        let config = try load(
            """
            broker: { url: "amqp://app:topsecret@rabbit/prod", connection_name: "my worker" }
            queues:
              "warren.high": { routes: ["a.*", "#"], time_limit: 90s, max_memory: 512MiB, retry: { max_attempts: 1 } }
              low: { type: quorum, max_tasks_per_child: 10 }
            retry: { backoff: { multiplier: 1.5 } }
            metrics: { listen: "[::1]:9100" }
            """)
        let text = config.describe()
        #expect(!text.contains("topsecret"))
        #expect(text.contains("url: [\"amqp://app:****@rabbit/prod\"]"))
        #expect(text.contains("  warren.high:\n    routes: [\"a.*\", \"#\"]\n    type: classic\n    children: 1\n    prefetch: 4\n"))
        #expect(text.contains("    time_limit: 1m30s\n    max_memory: 512MiB\n    max_tasks_per_child: null\n"))
        #expect(text.contains("backoff: { initial: 1s, multiplier: 1.5, max: 5m, jitter: 0.2 }"))
        #expect(text.contains("shutdown_timeout: 1m\nmax_message_size: 16MiB\n"))
        #expect(text.hasPrefix("# resolved from t.yaml\nbroker:\n"))
        #expect(config.description == text)

        var reloaded = try load(text)
        #expect(reloaded.broker.urls.first?.password == "****")
        reloaded.broker.urls = config.broker.urls
        #expect(reloaded == config)
    }

    @Test("validate() checks a configuration built in code")
    func validateInCode() {
        var config = WarrenConfiguration(queues: [QueueConfig(name: "q", prefetch: 1, concurrency: 2)])
        config.retry.backoff.jitter = 2
        #expect(throws: ConfigurationError.self) { try config.validate() }
        do {
            try config.validate()
        } catch {
            #expect(error.code == .invalid)
            #expect(
                error.problems.map(\.description) == [
                    "configuration: queues.q.prefetch: must be at least concurrency (2), or handler slots stay idle; got 1",
                    "configuration: retry.backoff.jitter: must be from 0 to 1 (a fraction of the delay), got 2",
                ])
        }
        #expect(throws: Never.self) { try WarrenConfiguration(queues: [QueueConfig(name: "q")]).validate() }
    }

    @Test("routeTable(forTasks:) resolves the configured queues")
    func routeTable() throws {
        let config = try load("queues:\n  slow: { routes: [demo.sleep] }\n  default: { routes: [\"#\"] }\n")
        let table = config.routeTable(forTasks: ["demo.sleep", "demo.add"])
        #expect(table.queue(for: "demo.sleep") == "slow")
        #expect(table.queue(for: "demo.add") == "default")
        #expect(RouteTable(queues: config.queues, taskNames: ["demo.add"]) == config.routeTable(forTasks: ["demo.add"]))
    }
}
