import Foundation
import ArgumentParser
import WarrenCore
import WarrenRuntime

/// `check-config`: validates the config and prints the resolved routes (task -> queue).
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate the config and print the routes of this binary's tasks.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        let tasks = CLIContext.worker.registry.names
        let table = config.routeTable(forTasks: tasks)
        print(config.describe())
        print("\nroutes (task -> queue, first matching route wins):")
        let width = (table.routes.map(\.task.count).max() ?? 0) + 2
        for route in table.routes {
            print("  " + route.task.padding(toLength: width, withPad: " ", startingAt: 0) + "-> \(route.queue)   (route \(route.pattern))")
        }
        if !table.unrouted.isEmpty {
            print("\ntasks that match no route (reachable only by publishing straight to a queue):")
            for task in table.unrouted { print("  \(task)") }
        }
        if !config.schedules.isEmpty {
            print("\nschedules (times in UTC; the leader among the supervisors sharing exchange \(config.exchange) fires them):")
            ScheduleTable.lines(config.schedules, now: Date(), lastFired: nil).forEach { print("  " + $0) }
        }
        let node = config.resolvedNodeName(hostname: HostName.current)
        print("\ncelery node \(node) (queue \(node).celery.pidbox):")
        print("  remote control: " + (config.control.enabled ? "answers \(config.control.allow.joined(separator: ", "))" : "off"))
        print(
            "  worker heartbeats: \(config.control.enabled ? "every 2s" : "off"); task events: \(config.events ? "on" : "off until enable_events")"
        )
        for warning in config.warnings { print("\nwarning: \(warning)") }
        let topology = Topology(configuration: config, taskNames: tasks)
        print("\nso that messages RabbitMQ expires in the work queues (Celery's `expires`) reach \(config.deadLetterQueue),")
        print("set this policy once on the broker:\n  \(topology.deadLetterPolicyCommand)")
        print("\nconfig OK")
    }
}
