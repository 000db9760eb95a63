import Glibc
import Logging
import Synchronization
import Testing

@testable import Warren

/// The supervisor's HTTP endpoint and the client `status` reads it with, on loopback (no broker).
@Suite("Metrics server")
struct MetricsServerTests {
    @Test("GET /metrics serves the exposition, and scrape reads it back")
    func servesMetrics() async throws {
        let metrics = WarrenMetrics()
        metrics.children(queue: "q", alive: 2, ready: 1)
        let (server, listen, _) = try await Self.serve(metrics)
        defer { server.stop() }

        let samples = try await MetricSamples.scrape(listen)
        #expect(samples.sum("warren_children", ["queue": "q"]) == 2)
        #expect(samples.sum("warren_children_ready", ["queue": "q"]) == 1)
    }

    @Test("other paths answer 404; / points at /metrics")
    func otherPaths() async throws {
        let (server, listen, _) = try await Self.serve(WarrenMetrics())
        defer { server.stop() }

        let (missing, _) = try await HTTPGet.fetch(listen, path: "/nope", timeout: .seconds(5))
        #expect(missing == .notFound)
        let (root, body) = try await HTTPGet.fetch(listen, path: "/", timeout: .seconds(5))
        #expect(root == .ok)
        #expect(String(buffer: body).contains("/metrics"))
    }

    @Test("a port already taken is logged as an error and start returns, serving nothing")
    func takenPort() async throws {
        let (first, listen, _) = try await Self.serve(WarrenMetrics())
        defer { first.stop() }

        let (second, _, logs) = try await Self.serve(WarrenMetrics(), on: listen, expectServing: false)
        #expect(second.localPort == nil)
        #expect(logs.lines.contains { $0.hasPrefix("error metrics: cannot serve") })
        // The first one serves on.
        _ = try await MetricSamples.scrape(listen)
    }

    @Test("scrape gives up after its timeout when the port accepts but never answers")
    func silentPeer() async throws {
        let (silent, listen) = try SilentListener.open()
        defer { silent.close() }
        let error = await #expect(throws: WorkerError.self) { try await MetricSamples.scrape(listen, timeout: .milliseconds(300)) }
        #expect(error?.description.contains("did not answer within") == true)
    }

    /// A started server on `listen` (default: a free loopback port), and what it logged.
    private static func serve(
        _ metrics: WarrenMetrics, on listen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 0), expectServing: Bool = true
    ) async throws -> (MetricsServer, ListenAddress, CapturedLogs) {
        let logs = CapturedLogs()
        let server = MetricsServer(metrics: metrics, logger: Logger(label: "test") { _ in logs })
        await server.start(listen: listen)
        guard expectServing else { return (server, listen, logs) }
        let port = try #require(server.localPort)
        return (server, ListenAddress(host: listen.host, port: port), logs)
    }
}

/// A log handler keeping `level message` lines, for tests that check what was logged.
final class CapturedLogs: LogHandler, Sendable {
    private let store = Mutex<[String]>([])
    var lines: [String] { store.withLock { $0 } }

    func log(event: LogEvent) {
        store.withLock { $0.append("\(event.level) \(event.message)") }
    }

    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }
}

/// A loopback TCP socket that listens but never accepts: the kernel completes connections into
/// its backlog, and nothing ever answers them.
struct SilentListener {
    let descriptor: Int32

    static func open() throws -> (SilentListener, ListenAddress) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw WorkerError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        guard ok else {
            Glibc.close(fd)
            throw WorkerError("bind/listen failed")
        }
        return (SilentListener(descriptor: fd), ListenAddress(host: "127.0.0.1", port: Int(UInt16(bigEndian: address.sin_port))))
    }

    func close() { Glibc.close(descriptor) }
}
