import Foundation
import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// Every way a config file can be wrong, with the exact message an operator reads.
@Suite("Config loader: problems")
struct ConfigErrorTests {
    /// Loads `yaml` as `warren.yaml`, expects it refused, and returns the problems' lines.
    private func problems(
        _ yaml: String, environment: [String: String] = [:], code: ConfigurationError.Code = .invalid,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [String] {
        do {
            _ = try ConfigLoader.load(yaml: yaml, source: "warren.yaml", environment: environment)
            Issue.record("the configuration was accepted", sourceLocation: sourceLocation)
            return []
        } catch {
            #expect(error.code == code, sourceLocation: sourceLocation)
            #expect(error.description == error.problems.map(\.description).joined(separator: "\n"))
            return error.problems.map(\.description)
        }
    }

    @Test("an unknown key, with the key it probably meant")
    func unknownKeyWithSuggestion() {
        #expect(
            problems("queues:\n  fast:\n    prefech: 8\n")
                == ["warren.yaml:3:5: queues.fast.prefech: unknown key, did you mean \"prefetch\"?"])
        #expect(
            problems("queues:\n  fast:\n    time-limit: 1m\n")
                == ["warren.yaml:3:5: queues.fast.time-limit: unknown key, did you mean \"time_limit\"?"])
    }

    @Test("an unknown key, with the keys allowed there")
    func unknownKeyWithList() {
        #expect(
            problems("colour: red\nqueues: { q: }\n") == [
                "warren.yaml:1:1: colour: unknown key, expected one of broker, exchange, queues, retry, dead_letter, unrouted, metrics, log, shutdown_timeout, max_message_size, schedules, node_name, control, events"
            ])
        #expect(
            problems("queues: { q: }\nmetrics: { port: 9464 }\n")
                == ["warren.yaml:2:12: metrics.port: unknown key, expected one of enabled, listen"])
    }

    @Test("a value of the wrong type")
    func wrongType() {
        #expect(
            problems(
                """
                queues:
                  fast:
                    children: two
                    routes: { a: b }
                    max_tasks_per_child: 1.5
                    concurrency: [1]
                """) == [
                    "warren.yaml:3:15: queues.fast.children: expected an integer, got \"two\"",
                    "warren.yaml:4:13: queues.fast.routes: expected a list of topic patterns, got a mapping",
                    "warren.yaml:5:26: queues.fast.max_tasks_per_child: expected an integer, got \"1.5\"",
                    "warren.yaml:6:18: queues.fast.concurrency: expected an integer, got a list",
                ])
        #expect(
            problems("queues: { q: }\nmetrics: { enabled: maybe }\n")
                == ["warren.yaml:2:21: metrics.enabled: expected true or false, got \"maybe\""])
        #expect(
            problems("queues: { q: }\nretry: { backoff: { jitter: lots } }\n")
                == ["warren.yaml:2:29: retry.backoff.jitter: expected a number, got \"lots\""])
    }

    @Test("a misplaced broker URL is shown with its password masked")
    func wrongTypeMasksPasswords() {
        #expect(
            problems("broker: amqp://guest:hunter2@localhost\nqueues: { q: }\n") == [
                "warren.yaml:1:9: broker: expected a mapping with keys url, password_file, heartbeat, connection_name, tls, got \"amqp://guest:****@localhost\""
            ])
    }

    @Test("a bad duration")
    func badDuration() {
        #expect(
            problems("queues:\n  slow:\n    time_limit: ten minutes\n")
                == ["warren.yaml:3:17: queues.slow.time_limit: expected a duration like 30s or 10m, got \"ten minutes\""])
        #expect(
            problems("queues:\n  slow:\n    time_limit: 30\n") == [
                "warren.yaml:3:17: queues.slow.time_limit: expected a duration like 30s or 10m, got \"30\" (a number needs a unit: ms, s, m, h or d)"
            ])
        #expect(
            problems("queues: { q: }\nshutdown_timeout: 1min\n") == [
                "warren.yaml:2:19: shutdown_timeout: expected a duration like 30s or 10m, got \"1min\" (unknown unit \"min\"; use ms, s, m, h or d)"
            ])
    }

    @Test("a bad size")
    func badSize() {
        #expect(
            problems("queues:\n  bigmem:\n    max_memory: 512M\nmax_message_size: lots\n") == [
                "warren.yaml:3:17: queues.bigmem.max_memory: expected a size like 512MiB or 2GiB, got \"512M\" (\"M\" is ambiguous; write MiB (powers of 1024) or MB (powers of 1000))",
                "warren.yaml:4:19: max_message_size: expected a size like 512MiB or 2GiB, got \"lots\"",
            ])
    }

    @Test("a route that is not AMQP topic syntax")
    func badRoutes() {
        let expected = "expected an AMQP topic pattern like notify.* or report.#, got"
        #expect(
            problems("queues:\n  q:\n    routes: [\"a.*b\", \"a..b\", \"\", [x]]\n") == [
                "warren.yaml:3:14: queues.q.routes[0]: \(expected) \"a.*b\" (* and # must stand alone between dots, as in a.*.b)",
                "warren.yaml:3:22: queues.q.routes[1]: \(expected) \"a..b\" (empty word: dots separate words, so no dot may start or end a pattern or follow another)",
                "warren.yaml:3:30: queues.q.routes[2]: \(expected) \"\" (a pattern must not be empty; # matches every task)",
                "warren.yaml:3:34: queues.q.routes[3]: \(expected) a list",
            ])
        #expect(
            problems("queues:\n  q:\n    routes:\n      - a.b\n      -\n")
                == ["warren.yaml:5:8: queues.q.routes[1]: \(expected) nothing"])
    }

    @Test("prefetch below concurrency")
    func prefetchBelowConcurrency() {
        #expect(
            problems("queues:\n  q:\n    prefetch: 2\n    concurrency: 4\n")
                == ["warren.yaml:3:15: queues.q.prefetch: must be at least concurrency (4), or handler slots stay idle; got 2"])
    }

    @Test("counts below 1")
    func countsBelowOne() {
        #expect(
            problems("queues:\n  r:\n    children: 0\n    prefetch: 0\n    concurrency: -1\n    max_tasks_per_child: 0\n") == [
                "warren.yaml:3:15: queues.r.children: must be from 1 to 1024, got 0",
                "warren.yaml:4:15: queues.r.prefetch: must be from 1 to 65535, got 0",
                "warren.yaml:5:18: queues.r.concurrency: must be at least 1, got -1",
                "warren.yaml:6:26: queues.r.max_tasks_per_child: must be at least 1, got 0; leave the key out for no limit",
            ])
    }

    @Test("an unknown queue type")
    func unknownQueueType() {
        #expect(
            problems("queues:\n  q: { type: stream }\n  r: { type: quorom }\n") == [
                "warren.yaml:2:14: queues.q.type: expected classic or quorum, got \"stream\"",
                "warren.yaml:3:14: queues.r.type: expected classic or quorum, got \"quorom\" (did you mean \"quorum\"?)",
            ])
    }

    @Test("queues missing or empty")
    func queuesMissingOrEmpty() {
        #expect(
            problems("exchange: x\n") == [
                "warren.yaml:1:1: queues: required: list the queues, in routing order, for example  queues: { default: { routes: [\"#\"] } }"
            ])
        let empty = "warren.yaml:1:1: queues: needs at least one queue, for example  default: { routes: [\"#\"] }"
        #expect(problems("queues: {}\n") == [empty])
        #expect(problems("queues:\n") == [empty])
        #expect(
            problems("queues: [a, b]\n") == ["warren.yaml:1:9: queues: expected a mapping, got a list"])
        #expect(
            problems("") == ["warren.yaml: the file is empty; it needs at least a queues mapping"])
    }

    @Test("invalid YAML, with Yams' line and column")
    func syntaxError() {
        #expect(
            problems("queues:\n  q:\n    routes: [a, b\n  r: {}\n", code: .syntax) == [
                "warren.yaml:4:4: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence, line 3 column 13)"
            ])
        #expect(
            problems("queues:\n\tq: {}\n", code: .syntax) == [
                "warren.yaml:2:1: invalid YAML: found character that cannot start any token (while scanning for the next token, line 2 column 1)"
            ])
    }

    @Test("retry out of range: jitter outside 0...1, multiplier below 1")
    func retryRanges() {
        #expect(
            problems("queues: { q: }\nretry:\n  max_attempts: 0\n  backoff: { jitter: 1.5, multiplier: 0.5, initial: 0s }\n") == [
                "warren.yaml:3:17: retry.max_attempts: must be at least 1 (1 = no retry), got 0",
                "warren.yaml:4:22: retry.backoff.jitter: must be from 0 to 1 (a fraction of the delay), got 1.5",
                "warren.yaml:4:39: retry.backoff.multiplier: must be at least 1 (1 = the same delay every time), got 0.5",
                "warren.yaml:4:53: retry.backoff.initial: must be longer than 0s",
            ])
        #expect(
            problems("queues: { q: }\nretry: { backoff: { jitter: -0.1, initial: 10m } }\n") == [
                // max is not written: the problem points at the backoff block it defaults in.
                "warren.yaml:2:10: retry.backoff.max: must be at least initial (10m), got 5m",
                "warren.yaml:2:29: retry.backoff.jitter: must be from 0 to 1 (a fraction of the delay), got -0.1",
            ])
    }

    @Test("a queue's retry block is checked where it is written, not for what it inherits")
    func queueRetryOverride() {
        #expect(
            problems("queues: { q: { retry: { backoff: { multiplier: 0.5 } } } }\nretry:\n  max_attempts: 0\n") == [
                "warren.yaml:1:48: queues.q.retry.backoff.multiplier: must be at least 1 (1 = the same delay every time), got 0.5",
                "warren.yaml:3:17: retry.max_attempts: must be at least 1 (1 = no retry), got 0",
            ])
    }

    @Test("duplicate queue names, which Yams refuses first")
    func duplicateQueues() {
        #expect(
            problems("queues:\n  slow: {}\n  # again\n  slow:\n    children: 2\n", code: .syntax)
                == ["warren.yaml:4:3: queues.slow: appears twice in this mapping (first on line 2); keep one"])
        #expect(
            problems("queues: { a: {}, a: {} }\n", code: .syntax)
                == ["warren.yaml:1:11: duplicate key \"a\" in a mapping; each key may appear once"])
        // Keys are compared as text (the loader resolves no YAML types: 1 and "1" are one key).
        #expect(
            problems("queues:\n  1: {}\n  \"1\": {}\n", code: .syntax)
                == ["warren.yaml:3:3: queues.1: appears twice in this mapping (first on line 2); keep one"])
    }

    @Test("a top level that is not a mapping")
    func topLevelNotMapping() {
        let expected = "expected a mapping of keys (broker, queues, …) at the top of the file, got"
        #expect(problems("- queues\n") == ["warren.yaml:1:1: \(expected) a list"])
        #expect(problems("hello\n") == ["warren.yaml:1:1: \(expected) \"hello\""])
    }

    @Test("broker settings")
    func brokerProblems() {
        #expect(
            problems(
                """
                broker:
                  url: [amqp://u:pw@h:99999, "http://x"]
                  heartbeat: 1.5s
                  tls: { cert: c.pem }
                queues: { q: }
                """) == [
                    "warren.yaml:2:9: broker.url[0]: expected an AMQP URL like amqp://user:password@host:5672/vhost, got \"amqp://u:****@h:99999\" (the port must be a number from 1 to 65535, not \"99999\")",
                    "warren.yaml:2:30: broker.url[1]: expected an AMQP URL like amqp://user:password@host:5672/vhost, got \"http://x\" (the scheme must be amqp or amqps, not \"http\")",
                    "warren.yaml:3:14: broker.heartbeat: must be whole seconds from 1s to 65535s, or 0 to turn heartbeats off, got 1.5s",
                    "warren.yaml:4:3: broker.tls: cert and key go together: key is missing",
                ])
        #expect(
            problems("broker: { url: \"amqp://a:secret@x, ftp://b\" }\nqueues: { q: }\n") == [
                "warren.yaml:1:16: broker.url[1]: expected an AMQP URL like amqp://user:password@host:5672/vhost, got \"ftp://b\" (the scheme must be amqp or amqps, not \"ftp\")"
            ])
        #expect(
            problems("broker: { url: [] }\nqueues: { q: }\n") == ["warren.yaml:1:16: broker.url: needs at least one URL"])
    }

    @Test("names that pass one by one but clash with Warren's own queues and exchanges are refused before anything connects")
    func clashingNames() {
        #expect(
            problems("exchange: warren.unrouted\nqueues: { q: }\n") == [
                "warren.yaml:1:11: exchange: \"warren.unrouted\" is the task exchange (exchange) and also the unrouted queue's name, which its exchange takes too: give one of them another name"
            ])
        #expect(
            problems("exchange: x\nqueues: { x.bindings: {}, x.wait.100ms: {} }\n") == [
                "warren.yaml:2:11: queues[\"x.bindings\"]: is the queue where Warren records the bindings of exchange \"x\"; give it another name",
                "warren.yaml:2:27: queues[\"x.wait.100ms\"]: starts like the wait queues of delayed tasks (x.wait.); give it another name",
            ])
    }

    @Test("TLS that would silently not apply is refused: a tls block beside amqp://, amqps:// mixed with amqp://")
    func tlsDowngrades() {
        #expect(
            problems("broker:\n  url: amqp://h\n  tls: { verify: true }\nqueues: { q: }\n") == [
                "warren.yaml:3:3: broker.tls: is set, but broker.url is amqp://, which does not use TLS: write amqps:// (or remove the tls block)"
            ])
        #expect(
            problems("broker:\n  url: [amqps://a, amqp://b]\nqueues: { q: }\n") == [
                "warren.yaml:2:8: broker.url: mixes amqps:// and amqp:// URLs, so a failover could drop to plaintext: use amqps:// for every node"
            ])
        #expect(throws: Never.self) {
            try ConfigLoader.load(
                yaml: "broker:\n  url: [amqps://a, amqps://b]\n  tls: { verify: false }\nqueues: { q: }\n", source: "w", environment: [:])
        }
    }

    @Test("verify: false is loud: a warning in check-config and the log, and the broker's description says so")
    func unverifiedTLSWarns() throws {
        let url = try #require(BrokerURL("amqps://h"))
        var config = WarrenConfiguration(broker: BrokerConfig(urls: [url], tls: .init(verify: false)), queues: [QueueConfig(name: "q")])
        #expect(config.warnings.contains { $0.hasPrefix("broker.tls.verify is false") })
        #expect(config.broker.description.contains("TLS NOT VERIFIED"))
        config.broker.tls = .init(caFile: "/etc/ca.pem")
        #expect(config.warnings.isEmpty)
        #expect(config.broker.description.hasSuffix(", tls verified)"))
    }

    @Test("warnings for a metrics port open on every interface and a password crossing the network in clear")
    func exposureWarnings() throws {
        var config = WarrenConfiguration(queues: [QueueConfig(name: "q")])
        #expect(config.warnings.isEmpty)  // the defaults: loopback broker and metrics
        config.metrics.listen = ListenAddress(host: "0.0.0.0", port: 9464)
        config.broker.urls = [try #require(BrokerURL("amqp://u:p@rabbit.internal")), try #require(BrokerURL("amqp://u:p@127.0.0.1"))]
        let warnings = config.warnings
        #expect(warnings.count == 2)
        #expect(warnings.contains { $0.hasPrefix("metrics.listen is 0.0.0.0:9464: the metrics port answers on every network interface") })
        #expect(warnings.contains { $0.hasPrefix("broker.url reaches rabbit.internal over plain amqp://") })
        #expect(!warnings.joined().contains("p@"))
    }

    @Test("a bad WARREN_BROKER_URL, password masked")
    func badEnvironmentURL() {
        #expect(
            problems("queues: { q: }\n", environment: ["WARREN_BROKER_URL": "amqp://app:hunter2@rabbit:70000/"]) == [
                "environment: WARREN_BROKER_URL: expected an AMQP URL like amqp://user:password@host:5672/vhost, got \"amqp://app:****@rabbit:70000/\" (the port must be a number from 1 to 65535, not \"70000\")"
            ])
        #expect(
            problems("queues: { q: }\n", environment: ["WARREN_BROKER_URL": " , "])
                == ["environment: WARREN_BROKER_URL: holds no URL"])
    }

    @Test("a password file that is missing, a directory, empty or several lines: named by key and line, its text never shown")
    func badPasswordFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("password-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func refused(_ content: String?) -> [String] {
            let path = dir + "/broker-password"
            try? FileManager.default.removeItem(atPath: path)
            if let content { try? content.write(toFile: path, atomically: true, encoding: .utf8) }
            return problems("broker:\n  url: amqp://app:hunter2@rabbit/\n  password_file: \(path)\nqueues: { q: }\n")
        }
        let key = "warren.yaml:3:18: broker.password_file: cannot read the broker password from \"\(dir)/broker-password\": "
        #expect(refused(nil) == [key + "no such file"])
        #expect(refused("") == [key + "it is empty; it should hold the password"])
        #expect(refused("\n\r\n") == [key + "it is empty; it should hold the password"])
        #expect(refused("hunter3\nhunter4\n") == [key + "it holds more than one line; it should hold the password alone, on one line"])
        #expect(refused(String(repeating: "x", count: 5000)) == [key + "it is larger than 4 KiB; it should hold the password alone"])
        #expect(
            problems("broker: { password_file: \(dir) }\nqueues: { q: }\n")
                == ["warren.yaml:1:26: broker.password_file: cannot read the broker password from \"\(dir)\": it is a directory"])
        #expect(
            problems("broker: { password_file: \"\" }\nqueues: { q: }\n")
                == ["warren.yaml:1:26: broker.password_file: must not be empty; leave the key out to use the password in broker.url"])
        #expect(
            problems("broker: { password_file: [a] }\nqueues: { q: }\n")
                == ["warren.yaml:1:26: broker.password_file: expected a string, got a list"])
        // From the environment: the variable is named, not the key.
        #expect(
            problems("queues: { q: }\n", environment: ["WARREN_BROKER_PASSWORD_FILE": dir + "/none"])
                == ["environment: WARREN_BROKER_PASSWORD_FILE: cannot read the broker password from \"\(dir)/none\": no such file"])
        // With other problems, in file order; and exit status 78 like any refused config.
        let all = problems("broker: { password_file: /nonexistent/pw }\nqueues: { q: { children: 0 } }\n")
        #expect(all.count == 2 && all[0].hasPrefix("warren.yaml:1:26: broker.password_file: "), "\(all)")
        do {
            _ = try ConfigLoader.load(yaml: "broker: { password_file: /nonexistent/pw }\nqueues: { q: }\n", environment: [:])
            Issue.record("accepted a missing password file")
        } catch {
            #expect(error.code == .invalid)
            #expect(ConfigurationError.exitStatus == 78)
        }
        // A file the worker's user cannot read (as root, every file is readable: skipped).
        if geteuid() != 0 {
            let path = dir + "/unreadable"
            try "hunter2\n".write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: path)
            let found = problems("broker: { password_file: \(path) }\nqueues: { q: }\n")
            #expect(found.first?.contains("permission denied") == true, "\(found)")
        }
        for line in refused("hunter3\nhunter4\n") + refused(String(repeating: "x", count: 5000)) {
            #expect(!line.contains("hunter") && !line.contains("xxxx"), "\(line)")
        }
    }

    @Test("names, addresses and log settings")
    func otherProblems() {
        #expect(
            problems(
                """
                metrics:
                  listen: localhost
                log:
                  level: warn
                  format: xml
                queues:
                  amq.q: {}
                  "a.b":
                    children: -1
                  warren.dead: {}
                dead_letter: { queue: "" }
                unrouted: { queue: warren.dead }
                exchange: ""
                max_message_size: 1GiB
                """) == [
                    "warren.yaml:2:11: metrics.listen: expected host:port like 127.0.0.1:9464, got \"localhost\"",
                    "warren.yaml:4:10: log.level: expected trace, debug, info, notice, warning, error or critical, got \"warn\" (did you mean \"warning\"?)",
                    "warren.yaml:5:11: log.format: expected text or json, got \"xml\"",
                    "warren.yaml:7:3: queues[\"amq.q\"]: names starting with \"amq.\" are reserved by the broker",
                    "warren.yaml:9:15: queues[\"a.b\"].children: must be from 1 to 1024, got -1",
                    "warren.yaml:10:3: queues[\"warren.dead\"]: is the unrouted queue (unrouted.queue); give it another name",
                    "warren.yaml:11:23: dead_letter.queue: a queue name must not be empty",
                    "warren.yaml:13:11: exchange: an exchange name must not be empty",
                    "warren.yaml:14:19: max_message_size: must be from 1B to 512MiB (RabbitMQ's own limit), got 1GiB",
                ])
    }

    @Test("every problem at once, in the order of the file")
    func everyProblemAtOnce() {
        let found = problems(
            """
            broker:
              heartbeat: 30
            queues:
              latency:
                routes: ["notify.*", "a.*b"]
                prefech: 8
                prefetch: 2
                concurrency: 4
              slow:
                time_limit: ten minutes
            retry:
              backoff: { jitter: 1.5, multiplier: 0.5 }
            """)
        #expect(found.count == 7)
        #expect(found.map { $0.split(separator: ":").dropFirst().first.map(String.init) ?? "" } == ["2", "5", "6", "7", "10", "12", "12"])
        #expect(found[4] == "warren.yaml:10:17: queues.slow.time_limit: expected a duration like 30s or 10m, got \"ten minutes\"")
    }

    @Test("a file that cannot be read")
    func unreadableFile() {
        do {
            _ = try ConfigLoader.load(path: "/nonexistent/warren.yaml", environment: [:])
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.code == .unreadable)
            #expect(error.description == "/nonexistent/warren.yaml: cannot read the file: no such file")
        }
        do {
            _ = try ConfigLoader.load(path: "/tmp", environment: [:])
            Issue.record("loaded a directory")
        } catch {
            #expect(error.description == "/tmp: cannot read the file: it is a directory")
        }
    }

    @Test("a file over 1 MiB is refused without being parsed (a 100 MB one took 78 s and 2 GB before)")
    func hugeFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("huge-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ("queues:\n  q: {}\n" + String(repeating: "# padding\n", count: 110_000)).write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try ConfigLoader.load(path: path, environment: [:])
            Issue.record("loaded a 1.1 MB file")
        } catch {
            #expect(error.code == .unreadable)
            #expect(error.description == "\(path): cannot read the file: it is larger than 1 MiB; a Warren config is a few KiB")
        }
    }

    @Test("the exit status for a refused configuration is EX_CONFIG")
    func exitStatus() {
        #expect(ConfigurationError.exitStatus == 78)
    }
}
