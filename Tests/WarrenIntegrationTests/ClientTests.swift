import AMQP
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import Warren

/// The typed tasks the tests send: the same definitions a web app and a worker would share.
private struct Add: TaskDefinition {
    static let name = "demo.add"
    static let argumentNames = ["a", "b"]
    typealias Result = Int
    var a: Int
    var b: Int
}

private struct Fail: TaskDefinition {
    static let name = "demo.fail"
    var message: String
}

private struct Sleep: TaskDefinition {
    static let name = "demo.sleep"
    typealias Result = Double
    var seconds: Double
}

private struct Noop: TaskDefinition {
    static let name = "demo.noop"
}

/// Tells send loops to stop.
private final class StopFlag: Sendable {
    private let flag = Atomic(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

/// WarrenClient against a real broker (and the demo worker where a result is awaited).
@Suite("WarrenClient", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct ClientTests {
    private func requireControl() throws -> Bool {
        if BrokerControl.node != nil { return true }
        try #require(!IntegrationBroker.required, "WARREN_TEST_RABBITMQ_NODE must be set when the broker is required")
        return false
    }

    @Test("typed tasks: a result, a failure as TaskFailed, and 1,000 concurrent sends answered on one reply queue")
    func typedResults() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let client = WarrenClient(configuration: .init(try setup.configuration()))

        #expect(try await client.send(Add(a: 2, b: 3)).result(timeout: .seconds(20)) == 5)
        do {
            _ = try await client.send(Fail(message: "card declined")).result(timeout: .seconds(20))
            Issue.record("demo.fail returned")
        } catch let failed as TaskFailed {
            #expect(failed.message == "card declined")
        }
        let wrong = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<1000 {
                group.addTask { try await client.send(Add(a: i, b: 1)).result(timeout: .seconds(60)) != i + 1 }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wrong == 0)
        await client.close()
        #expect(await worker.stop() == 0)
    }

    /// Sends `Noop` from `loops` concurrent loops until `stop` says so or the client is closed;
    /// each confirm is yielded to `confirmed`. Returns the count of each outcome.
    private func sendInLoops(
        _ client: WarrenClient, loops: Int, stop: StopFlag, confirmed: AsyncStream<Void>.Continuation
    ) async -> [String: Int] {
        await withTaskGroup(of: [String: Int].self) { group in
            for _ in 0..<loops {
                group.addTask {
                    var counts: [String: Int] = [:]
                    while !stop.isSet {
                        do {
                            _ = try await client.send(Noop(), options: .init(awaitsResult: false))
                            counts["confirmed", default: 0] += 1
                            confirmed.yield()
                        } catch let error as WarrenClientError {
                            counts["\(error.code)", default: 0] += 1
                            if error.code == .closed { break }
                        } catch {
                            counts["other: \(error)", default: 0] += 1
                        }
                    }
                    return counts
                }
            }
            return await group.reduce(into: [:]) { all, counts in all.merge(counts, uniquingKeysWith: +) }
        }
    }

    @Test("in a ServiceGroup, a graceful shutdown while 8 loops send: each send is confirmed (and queued) or refused as closed")
    func gracefulShutdown() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let broker = try await BrokerIO.open()
        try await broker.declare(try setup.configuration(), tasks: [Noop.name])
        let client = WarrenClient(configuration: .init(try setup.configuration()))
        let group = ServiceGroup(
            configuration: .init(services: [client], gracefulShutdownSignals: [], logger: Logger(label: "client-test")))
        let running = Task { try await group.run() }

        let (confirms, confirmed) = AsyncStream.makeStream(of: Void.self)
        let stop = StopFlag()
        let outcomes = Task { await sendInLoops(client, loops: 8, stop: stop, confirmed: confirmed) }
        var seen = 0
        for await _ in confirms {
            seen += 1
            if seen == 200 { break }
        }
        await group.triggerGracefulShutdown()
        try await running.value
        let counts = await outcomes.value
        confirmed.finish()
        print("graceful shutdown during sends: \(counts)")
        #expect(Set(counts.keys) == ["confirmed", "closed"], "\(counts)")
        #expect(counts["closed"] == 8)  // every loop was sending when the client closed
        #expect(try await broker.depth(setup.queue("latency")) == UInt32(counts["confirmed"] ?? 0))
        await broker.close()
    }

    @Test(
        "the broker closes the client's connection while 8 loops send: no send reports success without its message queued; the client reconnects"
    )
    func connectionClosed() async throws {
        guard try requireControl() else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let broker = try await BrokerIO.open()
        try await broker.declare(try setup.configuration(), tasks: [Noop.name])
        var settings = WarrenClient.Configuration(try setup.configuration(), connectionName: "client-\(setup.prefix)")
        settings.reconnectPatience = .seconds(20)
        let client = WarrenClient(configuration: settings)

        let (confirms, confirmed) = AsyncStream.makeStream(of: Void.self)
        let stop = StopFlag()
        let outcomes = Task { await sendInLoops(client, loops: 8, stop: stop, confirmed: confirmed) }
        var iterator = confirms.makeAsyncIterator()
        for _ in 0..<50 { _ = await iterator.next() }
        let closed = try await BrokerControl.closeConnections(named: "client-\(setup.prefix)")
        // Sends go on through the reconnection: wait for 50 more confirms after it.
        for _ in 0..<50 { _ = await iterator.next() }
        stop.set()
        let counts = await outcomes.value
        confirmed.finish()
        print("connection closed during sends: \(counts)")
        #expect(closed == 1)
        #expect(counts.keys.allSatisfy { $0 == "confirmed" || $0 == "notConfirmed" }, "\(counts)")
        let depth = try await broker.depth(setup.queue("latency"))
        #expect(depth >= UInt32(counts["confirmed"] ?? 0), "\(counts), queued \(depth)")
        #expect(depth <= UInt32((counts["confirmed"] ?? 0) + (counts["notConfirmed"] ?? 0)))
        await client.close()
        await broker.close()
    }

    @Test("a result that comes while the client reconnects is not lost: the reply queue outlives the connection")
    func resultAcrossReconnect() async throws {
        guard try requireControl() else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let client = WarrenClient(configuration: .init(try setup.configuration(), connectionName: "client-\(setup.prefix)"))
        let handle = try await client.send(Sleep(seconds: 3))
        try await worker.waitForLog(handle.id, "task started", timeout: .seconds(10))
        #expect(try await BrokerControl.closeConnections(named: "client-\(setup.prefix)") == 1)
        #expect(try await handle.result(timeout: .seconds(30)) == 3)
        await client.close()
        #expect(await worker.stop() == 0)
    }
}
