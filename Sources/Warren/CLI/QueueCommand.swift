import AMQP
import ArgumentParser
import Foundation
import WarrenCore
import WarrenRuntime

/// `queue pause NAME` and `queue resume NAME`: Celery's `cancel_consumer` / `add_consumer`
/// for operators without Python (docs/celery-node.md).
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Pause or resume a queue on a running supervisor (remote control).",
        subcommands: [QueuePauseCommand.self, QueueResumeCommand.self])
}

/// What `queue pause` and `queue resume` share: the queue, which nodes, how long to wait.
struct QueueControlOptions: ParsableArguments {
    @OptionGroup var options: ConfigOptions

    @Argument(help: "The queue's name, as in the config.")
    var queue: String

    @Option(name: .long, help: "The node to ask (default: this host's, from node_name in the config).")
    var node: String?

    @Flag(name: .long, help: "Ask every node on the broker (as `celery control` does by default).")
    var all = false

    @Option(name: .long, help: "Seconds to wait for replies.")
    var timeout: Double = 5

    func validate() throws {
        guard (0.1...300).contains(timeout) else { throw ValidationError("--timeout must be from 0.1 to 300 seconds") }
        guard !(all && node != nil) else { throw ValidationError("--all and --node exclude each other") }
    }

    /// Sends `method` for the queue, prints each node's reply; fails when none came or any was an error.
    func send(_ method: String, verb: String) async throws {
        let config = try options.load()
        guard config.queues.contains(where: { $0.name == queue }) else {
            let known = config.queues.map(\.name).joined(separator: ", ")
            throw ValidationError("no queue named \(queue) in \(options.path); the queues are \(known)")
        }
        let destination = all ? nil : [node ?? config.resolvedNodeName(hostname: HostName.current)]
        let replies: [String: JSONValue]
        do {
            let io = try await config.broker.connect(
                name: "\(ProcessInfo.processInfo.processName) queue \(verb) pid \(getpid())", threadName: "amqp-cli")
            do {
                replies = try await ControlClient.call(
                    method, arguments: ["queue": .string(queue)], destination: destination, expected: destination?.count,
                    timeout: .milliseconds(Int64(timeout * 1000)), on: io)
                await io.close()
            } catch {
                await io.close()
                throw error
            }
        } catch {
            FileHandle.standardError.write(Data("queue \(verb): \(error)\n".utf8))
            throw ExitCode.failure
        }
        guard !replies.isEmpty else {
            let whom = destination.map { "node \($0[0])" } ?? "any node"
            FileHandle.standardError.write(
                Data(
                    ("queue \(verb): no reply from \(whom) within \(timeout) s (is its supervisor running, with control enabled "
                        + "and \(method) in control.allow? --node names another node, --all asks every one)\n").utf8))
            throw ExitCode.failure
        }
        var failed = false
        for (name, reply) in replies.sorted(by: { $0.key < $1.key }) {
            let node = ErrorText.bounded(name, maxBytes: 255)
            if let ok = reply["ok"]?.stringValue {
                print("\(node): \(ErrorText.bounded(ok, maxBytes: 1024))")
            } else {
                failed = true
                let error = reply["error"]?.stringValue ?? "\(reply)"
                print("\(node): error: \(ErrorText.bounded(error, maxBytes: 1024))")
            }
        }
        if failed { throw ExitCode.failure }
    }
}

/// `queue pause NAME`: the queue's children stop warmly and none starts until `queue resume`.
struct QueuePauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Stop consuming a queue: its children finish their running tasks and stop; the prefetched go back to the queue.",
        discussion: "Celery's cancel_consumer. The queue stays paused through a reload (SIGHUP), not through a restart.")

    @OptionGroup var control: QueueControlOptions

    func run() async throws { try await control.send("cancel_consumer", verb: "pause") }
}

/// `queue resume NAME`: the paused queue's children start again.
struct QueueResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Consume a paused queue again: its children start at once.",
        discussion: "Celery's add_consumer, for a queue of the config.")

    @OptionGroup var control: QueueControlOptions

    func run() async throws { try await control.send("add_consumer", verb: "resume") }
}
