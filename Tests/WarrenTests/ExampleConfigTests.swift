import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Config/warren.yaml, the example and demo config")
struct ExampleConfigTests {
    /// `Config/warren.yaml` of this repository, found from this file's path.
    static let path: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)  // Tests/WarrenTests/ExampleConfigTests.swift
        return components.joined(separator: "/") + "/Config/warren.yaml"
    }()

    static let demoTasks = [
        "demo.noop", "demo.add", "demo.echo", "demo.args", "demo.sleep", "demo.fail", "demo.flaky", "demo.alloc", "demo.crash",
    ]

    @Test("is valid and has the documented values")
    func loads() throws {
        let config = try ConfigLoader.load(path: Self.path, environment: [:])
        #expect(config.queues.map(\.name) == ["latency", "slow", "bigmem", "default"])
        #expect(config.broker == BrokerConfig())
        #expect(config.exchange == "warren")
        #expect(config.queue(named: "slow")?.timeLimit == .seconds(600))
        #expect(config.queue(named: "bigmem")?.maxMemory == .mebibytes(512))
        #expect(config.queue(named: "bigmem")?.maxTasksPerChild == 100)
        #expect(config.queue(named: "default")?.type == .quorum)
        #expect(config.retry == RetryPolicy())
        #expect(config.metrics == MetricsConfig())
        #expect(
            config.schedules == [
                ScheduleConfig(name: "demo-heartbeat", task: "demo.noop", timing: .every(try IntervalSchedule(every: .seconds(60))))
            ])
        // Apart from its queues and its demo schedule, the example spells out exactly the defaults.
        #expect(config == WarrenConfiguration(source: Self.path, queues: config.queues, schedules: config.schedules))
    }

    @Test("routes the demo tasks as the README's demo task table says")
    func demoRoutes() throws {
        let config = try ConfigLoader.load(path: Self.path, environment: [:])
        let table = config.routeTable(forTasks: Self.demoTasks)
        #expect(table.unrouted.isEmpty && table.unbindable.isEmpty)
        #expect(table.queue(for: "demo.sleep") == "slow")
        #expect(table.queue(for: "demo.alloc") == "bigmem")
        #expect(table.tasks(for: "latency") == ["demo.add", "demo.args", "demo.echo", "demo.noop"])
        #expect(table.tasks(for: "default") == ["demo.crash", "demo.fail", "demo.flaky"])
        #expect(table.queue(for: "notify.email") == nil)  // not registered: not in the table
        #expect(config.routeTable(forTasks: ["notify.email", "report.daily"]).routes.map(\.queue) == ["latency", "slow"])
    }

    @Test("WARREN_BROKER_URL overrides its broker")
    func environment() throws {
        let config = try ConfigLoader.load(path: Self.path, environment: ["WARREN_BROKER_URL": "amqps://w:pw@rabbit.internal/prod"])
        #expect(config.broker.urls.map(\.description) == ["amqps://w:****@rabbit.internal/prod"])
    }
}
