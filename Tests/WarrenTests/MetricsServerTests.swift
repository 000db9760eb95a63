import Foundation
import Glibc
import Logging
import NIOCore
import Synchronization
import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

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

        let (missing, _) = try await HTTPGet.fetch(listen, path: "/nope", timeout: .seconds(60))
        #expect(missing == .notFound)
        let (root, body) = try await HTTPGet.fetch(listen, path: "/", timeout: .seconds(60))
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

    @Test("a client trickling header bytes is cut off at the request timeout, however active it is")
    func slowClientCutOff() async throws {
        let (server, listen, _) = try await Self.serve(WarrenMetrics(), requestTimeout: .milliseconds(500))
        defer { server.stop() }
        let client = try RawClient(listen)
        defer { client.close() }
        let began = ContinuousClock.now
        // A header line every 100 ms: never idle, never done.
        let closed = await onThread {
            client.send("GET /metrics HTTP/1.1\r\nHost: x\r\n")
            for n in 0..<100 {  // up to ~10 s: without the deadline it never closes
                if client.closedByPeer(within: .milliseconds(100)) { return true }
                client.send("X-Slow-\(n): 1\r\n")
            }
            return false
        }
        #expect(closed)
        let took = ContinuousClock.now - began
        #expect(took >= .milliseconds(400), "closed after \(took)")  // not before its deadline (the upper bound is `closed`)
    }

    @Test("at most maxConnections are open: one more is closed at once; scrapes work again once the slow ones are cut")
    func connectionCap() async throws {
        let (server, listen, _) = try await Self.serve(WarrenMetrics(), maxConnections: 4, requestTimeout: .seconds(1))
        defer { server.stop() }
        let holders = try (0..<4).map { _ in try RawClient(listen) }
        defer { holders.forEach { $0.close() } }
        for holder in holders { holder.send("GET /metr") }  // half a request each
        let extra = try RawClient(listen)
        defer { extra.close() }
        #expect(await onThread { extra.closedByPeer(within: .milliseconds(500)) }, "a fifth connection was kept open")
        // The holders are cut at their deadline; then the port serves again.
        #expect(await onThread { holders.allSatisfy { $0.closedByPeer(within: .seconds(3)) } })
        // The server counts a connection gone once its channel closed on the event loop, a moment
        // after the peer saw the FIN (under load, long enough for a scrape to hit the cap): a
        // scrape must succeed soon (within 10 s: CI's 2 cores run the whole suite at once), not
        // necessarily at the first try.
        let deadline = ContinuousClock.now + .seconds(10)
        var scraped = false
        while !scraped, ContinuousClock.now < deadline {
            scraped = (try? await MetricSamples.scrape(listen)) != nil
            if !scraped { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(scraped, "the port did not serve again once the slow connections were cut")
    }

    @Test("scrape refuses an answer over 16 MiB instead of reading it all")
    func oversizedAnswer() async throws {
        let (silent, listen) = try SilentListener.open()
        defer { silent.close() }
        // A peer that answers 200 with an endless body.
        let served = Task.detached {
            let fd = accept(silent.descriptor, nil, nil)
            guard fd >= 0 else { return }
            defer { Glibc.close(fd) }
            var request = [UInt8](repeating: 0, count: 4096)
            _ = recv(fd, &request, request.count, 0)  // the GET, answered only once asked
            let head = "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n"
            _ = head.utf8CString.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
            let chunk = [UInt8](repeating: 0x61, count: 1 << 20)
            for _ in 0..<40 where chunk.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) > 0 {}
        }
        defer { served.cancel() }
        // A generous timeout: on a loaded machine reading 16 MiB took longer than 20 s, and the
        // timeout, not the size cap, ended the scrape.
        let error = await #expect(throws: WorkerError.self) { try await MetricSamples.scrape(listen, timeout: .seconds(120)) }
        #expect(error?.description.contains("more than 16 MiB") == true)
    }

    /// A started server on `listen` (default: a free loopback port), and what it logged.
    private static func serve(
        _ metrics: WarrenMetrics, on listen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 0), expectServing: Bool = true,
        // Tests that do not test the request deadline get a long one: on CI's 2 cores, with the
        // whole suite running, a request took long enough that the 10 s deadline closed it
        // ("I/O on closed channel" after 20 s).
        maxConnections: Int = 32, requestTimeout: TimeAmount = .seconds(60)
    ) async throws -> (MetricsServer, ListenAddress, CapturedLogs) {
        let logs = CapturedLogs()
        let server = MetricsServer(
            metrics: metrics, logger: Logger(label: "test") { _ in logs }, maxConnections: maxConnections, requestTimeout: requestTimeout)
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

/// Runs blocking socket calls on a thread of their own, off the cooperative pool.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}

/// A blocking loopback TCP client that sends what it is told and notices the peer closing.
struct RawClient: Sendable {
    let descriptor: Int32

    init(_ listen: ListenAddress) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw WorkerError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(listen.port).bigEndian
        let rc = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            Glibc.close(fd)
            throw WorkerError("connect failed: \(errno)")
        }
        descriptor = fd
    }

    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(descriptor, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
    }

    /// Whether the peer closed the connection (end of file or reset) within `limit`; what it
    /// sent before that is read and dropped.
    func closedByPeer(within limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let left = deadline - ContinuousClock.now
            var p = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
            if ready <= 0 { continue }
            let n = recv(descriptor, &buffer, buffer.count, 0)
            if n <= 0 { return true }
        }
        return false
    }

    func close() { Glibc.close(descriptor) }
}
