import AMQP
import ArgumentParser
import Foundation
import WarrenCore
import WarrenRuntime

/// `run`: the worker in the foreground, what systemd starts.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Declare the topology and consume every configured queue until SIGTERM.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let snapshot = try options.loadSnapshot()
        let logger = LogSetup.bootstrap(snapshot.configuration.log)
        let supervisor = await Supervisor(snapshot: snapshot, registry: CLIContext.worker.registry, logger: logger)
        let status: Int32
        do {
            status = try await supervisor.run()
        } catch let error as AMQPError where error.code == .authenticationFailed {
            // A wrong user, password or vhost is the configuration's fault: exit 78 (EX_CONFIG),
            // which the unit does not restart, rather than 1, retried every 2 s forever.
            logger.critical("cannot run: the broker refused the login; fix the user, password or vhost", metadata: ["error": "\(error)"])
            throw ExitCode(ConfigurationError.exitStatus)
        } catch {
            logger.critical("cannot run", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        logger.info("stopped")
        if status != 0 { throw ExitCode(status) }
    }
}
