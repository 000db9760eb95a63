import ArgumentParser
import Foundation
import WarrenRuntime

/// `child`: one child worker process. The supervisor (`run`) starts these; not for people.
struct ChildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "child", abstract: "Run one child worker (started by `run`).", shouldDisplay: false)

    @OptionGroup var options: ConfigOptions

    @Option(help: "The queue this child consumes.")
    var queue: String

    @Option(help: "Which child of the queue this is (1-based).")
    var slot: Int = 1

    @Option(help: "The descriptor holding the config text the supervisor loaded (else the file is read).")
    var configFd: Int32?

    func run() async throws {
        let config =
            try configFd.map { descriptor in
                defer { close(descriptor) }
                return try options.load(handedAt: descriptor)
            } ?? options.load()
        let logger = LogSetup.bootstrap(config.log)
        let status = await ChildMain.run(
            configuration: config, queueName: queue, slot: slot, registry: CLIContext.worker.registry, logger: logger)
        if status != 0 { throw ExitCode(status) }
    }
}
