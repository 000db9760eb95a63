import ArgumentParser
import Foundation

/// `run`: the worker in the foreground, what systemd starts.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Declare the topology and consume every configured queue until SIGTERM.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        let logger = LogSetup.bootstrap(config.log)
        let path = options.config ?? ConfigLoader.defaultPath(environment: ProcessInfo.processInfo.environment)
        let supervisor = await Supervisor(configuration: config, configPath: path, registry: CLIContext.worker.registry, logger: logger)
        let status: Int32
        do {
            status = try await supervisor.run()
        } catch {
            logger.critical("cannot run", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        logger.info("stopped")
        if status != 0 { throw ExitCode(status) }
    }
}
