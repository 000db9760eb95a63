import ArgumentParser

/// `run`: the worker in the foreground, what systemd starts.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Declare the topology and consume every configured queue until SIGTERM.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        let logger = LogSetup.bootstrap(config.log)
        let worker = CLIContext.worker
        do {
            try await WorkerRuntime(configuration: config, registry: worker.registry, logger: logger).run()
        } catch {
            logger.critical("cannot run", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }
}
