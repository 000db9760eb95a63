import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Route resolution and binding diffs")
struct RouteTableTests {
    private func patterns(_ texts: String...) -> [TopicPattern] {
        texts.map { TopicPattern($0)! }
    }

    @Test("the first queue whose pattern matches wins, in the config's order")
    func firstMatchWins() {
        let queues = [
            (name: "latency", routes: patterns("notify.*", "auth.#")),
            (name: "slow", routes: patterns("report.#", "notify.digest")),
            (name: "default", routes: patterns("#")),
        ]
        let table = RouteTable(
            queues: queues, taskNames: ["notify.digest", "notify.email", "auth.login", "report.monthly", "misc"])
        #expect(table.queue(for: "notify.digest") == "latency")  // slow names it exactly, but latency comes first
        #expect(table.queue(for: "notify.email") == "latency")
        #expect(table.queue(for: "auth.login") == "latency")
        #expect(table.queue(for: "report.monthly") == "slow")
        #expect(table.queue(for: "misc") == "default")
        #expect(table.unrouted.isEmpty)

        // The same queues with the catch-all first take everything.
        let greedy = RouteTable(queues: [queues[2], queues[0], queues[1]], taskNames: ["notify.email", "report.monthly"])
        #expect(greedy.tasks(for: "default") == ["notify.email", "report.monthly"])
    }

    @Test("records the pattern that matched and sorts by task name")
    func routesAreSorted() throws {
        let table = RouteTable(
            queues: [(name: "a", routes: patterns("x.*", "#"))], taskNames: ["z", "x.y", "m", "x.y"])
        #expect(table.routes.map(\.task) == ["m", "x.y", "z"])
        #expect(table.routes.map(\.pattern.description) == ["#", "x.*", "#"])
    }

    @Test("* takes one word, # any number, including none")
    func starVersusHash() {
        let table = RouteTable(
            queues: [(name: "one", routes: patterns("image.*")), (name: "many", routes: patterns("image.#"))],
            taskNames: ["image", "image.resize", "image.resize.large"])
        #expect(table.queue(for: "image") == "many")
        #expect(table.queue(for: "image.resize") == "one")
        #expect(table.queue(for: "image.resize.large") == "many")
    }

    @Test("lists the tasks no route matches, and those that cannot be bound exactly")
    func unrouted() {
        let table = RouteTable(
            queues: [(name: "latency", routes: patterns("notify.*")), (name: "direct", routes: [])],
            taskNames: ["notify.email", "billing.charge", "audit", "report.*", "a..b"])
        #expect(table.routes.map(\.task) == ["notify.email"])
        #expect(table.unrouted == ["audit", "billing.charge"])
        #expect(table.unbindable == ["a..b", "report.*"])
        #expect(table.tasks(for: "direct").isEmpty)
    }

    @Test("binds each routed task exactly, by name")
    func bindings() {
        let table = RouteTable(
            queues: [(name: "slow", routes: patterns("demo.sleep")), (name: "default", routes: patterns("#"))],
            taskNames: ["demo.sleep", "demo.add"])
        #expect(
            table.bindings == [
                QueueBinding(queue: "slow", routingKey: "demo.sleep"), QueueBinding(queue: "default", routingKey: "demo.add"),
            ])
    }

    @Test("a reload unbinds what is stale and binds what is missing")
    func diff() {
        let current: Set<QueueBinding> = [
            QueueBinding(queue: "latency", routingKey: "demo.add"),
            QueueBinding(queue: "default", routingKey: "demo.echo"),
            QueueBinding(queue: "old", routingKey: "demo.gone"),
        ]
        let desired: Set<QueueBinding> = [
            QueueBinding(queue: "default", routingKey: "demo.add"),  // moved from latency
            QueueBinding(queue: "default", routingKey: "demo.echo"),  // unchanged
            QueueBinding(queue: "slow", routingKey: "demo.sleep"),  // new
        ]
        let diff = BindingDiff(current: current, desired: desired)
        #expect(
            diff.unbind == [
                QueueBinding(queue: "latency", routingKey: "demo.add"), QueueBinding(queue: "old", routingKey: "demo.gone"),
            ])
        #expect(
            diff.bind == [
                QueueBinding(queue: "default", routingKey: "demo.add"), QueueBinding(queue: "slow", routingKey: "demo.sleep"),
            ])
        #expect(!diff.isEmpty)
        #expect(BindingDiff(current: desired, desired: desired).isEmpty)
        #expect(BindingDiff(current: [], desired: desired).bind.count == 3)
        #expect(BindingDiff(current: current, desired: []).unbind.count == 3)
    }

    @Test("the diff between two route tables")
    func diffOfTables() {
        let before = RouteTable(
            queues: [(name: "latency", routes: patterns("demo.*"))], taskNames: ["demo.add", "demo.sleep"])
        let after = RouteTable(
            queues: [(name: "slow", routes: patterns("demo.sleep")), (name: "latency", routes: patterns("demo.*"))],
            taskNames: ["demo.add", "demo.sleep"])
        let diff = BindingDiff(current: before.bindings, desired: after.bindings)
        #expect(diff.unbind == [QueueBinding(queue: "latency", routingKey: "demo.sleep")])
        #expect(diff.bind == [QueueBinding(queue: "slow", routingKey: "demo.sleep")])
        #expect(diff.bind.first?.description == "demo.sleep -> slow")
    }
}
