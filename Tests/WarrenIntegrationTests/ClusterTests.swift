import Foundation
import Testing
import Warren

/// A 3-node RabbitMQ cluster (`scripts/broker cluster start`; `eval "$(scripts/broker cluster env)"`).
/// Skipped without it, unless `WARREN_TEST_REQUIRE_CLUSTER=1`, which makes its absence a failure.
enum TestCluster {
    static let environment = ProcessInfo.processInfo.environment
    static var urls: [String] { (environment["WARREN_TEST_CLUSTER_URLS"] ?? "").split(separator: ",").map(String.init) }
    static var nodes: [String] { (environment["WARREN_TEST_CLUSTER_NODES"] ?? "").split(separator: ",").map(String.init) }
    static var required: Bool { environment["WARREN_TEST_REQUIRE_CLUSTER"] == "1" }
    static var enabled: Bool { required || (urls.count == 3 && nodes.count == 3) }
}

@Suite(
    "Cluster", .serialized,
    .enabled(if: TestCluster.enabled, "needs a RabbitMQ cluster: scripts/broker cluster start, then eval \"$(scripts/broker cluster env)\"")
)
struct ClusterTests {
    @Test("quorum queues on 3 nodes: the node the children use stops mid-stream; they fail over and no task is lost")
    func nodeLossLosesNothing() async throws {
        try #require(TestCluster.urls.count == 3 && TestCluster.nodes.count == 3, "WARREN_TEST_CLUSTER_URLS/NODES must name 3 nodes")
        let urls = TestCluster.urls.joined(separator: ","), first = TestCluster.nodes[0]
        _ = try await BrokerControl.run(["start_app"], node: first)  // idempotent: a failed earlier run may have left it stopped
        _ = try await BrokerControl.run(["await_startup"], node: first)
        // One child per queue: every child is on the first URL, which is the node we stop.
        let quorum = "type: quorum"
        let setup = try TestSetup(
            latency: ["children: 1", "prefetch: 8", quorum], slow: ["prefetch: 1", quorum], bigmem: ["prefetch: 1", quorum], other: [quorum]
        )
        defer { setup.tearDown(url: TestCluster.urls[1]) }
        let environment = [ConfigLoader.brokerURLVariable: urls]
        let worker = try await DemoWorker(config: setup.path, environment: environment)
        let configuration = try ConfigLoader.load(path: setup.path, environment: environment)
        let publisher = try await WarrenClient(configuration: configuration, name: "\(setup.prefix) publisher")

        let tasks = (0..<300).map { _ in TaskMessage(name: "demo.noop") }
        var stop: Task<String, any Error>?
        var republished = 0
        for (n, task) in tasks.enumerated() {
            if n == 100 { stop = Task { try await BrokerControl.run(["stop_app"], node: first) } }
            while true {  // a publish that was not confirmed is published again: a duplicate, never a loss
                do {
                    try await publisher.publish(task)
                    break
                } catch {
                    republished += 1
                    try #require(republished < 50, "cannot publish: \(error)")
                }
            }
            if n % 10 == 9 { try await Task.sleep(for: .milliseconds(20)) }  // a stream, not a burst
        }
        _ = try await stop?.value

        let deadline = ContinuousClock.now + .seconds(60)
        var lost: [String] = []
        for task in tasks {
            let left = deadline - ContinuousClock.now
            if await !worker.logs.wait(for: [task.id, "task succeeded"], timeout: max(left, .milliseconds(1))) { lost.append(task.id) }
        }
        #expect(lost.isEmpty, "lost \(lost.count) of \(tasks.count) tasks, e.g. \(lost.prefix(3))")
        #expect(worker.lines(containing: "child died").isEmpty)  // reconnected, not restarted
        #expect(
            worker.log.contains { $0.contains("[Warren] connected") && !$0.contains(":\(TestCluster.urls[0].split(separator: ":").last!)") }
        )
        await publisher.close()
        #expect(await worker.stop() == 0)
        _ = try await BrokerControl.run(["start_app"], node: first)
        _ = try await BrokerControl.run(["await_startup"], node: first)
    }
}
