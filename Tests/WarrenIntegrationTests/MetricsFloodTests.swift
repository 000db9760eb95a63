import Foundation
import Testing
import Warren

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Whoever reaches the metrics port cannot starve the supervisor of descriptors.
@Suite("Metrics flood", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct MetricsFloodTests {
    @Test("300 slow metrics connections under ulimit -n 128: the supervisor keeps few, restarts a killed child, tasks flow")
    func slowConnectionsDoNotStarveRestarts() async throws {
        let listen = ListenAddress(host: "127.0.0.1", port: try FreePort.take())
        let setup = try TestSetup(latency: ["children: 1", "prefetch: 1"], metrics: listen)
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path, fileLimit: 128)
        try await worker.waitForLog("metrics served", timeout: .seconds(10))
        // Half a request each, then silence: every one would hold a descriptor for good before.
        var clients: [FloodClient] = []
        defer { clients.forEach { $0.close() } }
        for _ in 0..<300 {
            guard let client = FloodClient(port: listen.port) else { break }
            client.send("GET /metrics HTTP/1.1\r\nHost: x\r\n")
            clients.append(client)
        }
        #expect(clients.count == 300)
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(worker.pid)/fd").count) ?? 0
        #expect(descriptors < 100, "the supervisor holds \(descriptors) descriptors")

        let publisher = try await WarrenClient(configuration: try setup.configuration())
        let first = TaskMessage(name: "demo.add", args: [1, 1])
        #expect(try await publisher.call(first) == 2)
        let victim = try #require(worker.childPID(logging: first.id, "task started"))
        kill(victim, SIGKILL)
        try await worker.waitForLog("child died; restarting", "signal 9", timeout: .seconds(10))
        let second = TaskMessage(name: "demo.add", args: [2, 2])
        #expect(try await publisher.call(second, timeout: .seconds(20)) == 4)
        #expect(worker.childPID(logging: second.id, "task started") != victim)
        #expect(worker.lines(containing: "cannot start a child").isEmpty)
        await publisher.close()
        #expect(await worker.stop() == 0)
    }
}

/// A non-blocking loopback connection that sends a few bytes and then does nothing.
struct FloodClient {
    let descriptor: Int32

    init?(port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 || errno == EINPROGRESS else {
            Glibc.close(fd)
            return nil
        }
        descriptor = fd
    }

    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(descriptor, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
    }

    func close() { Glibc.close(descriptor) }
}
