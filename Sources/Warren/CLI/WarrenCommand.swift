import ArgumentParser
import Foundation
import Logging
import Synchronization
import WarrenCore
import WarrenRuntime

/// The worker whose command line is running (argument-parser commands are types, so they reach
/// the registered handlers through this).
enum CLIContext {
    private static let current = Mutex<Worker?>(nil)
    static var worker: Worker {
        get { current.withLock { $0! } }
        set { current.withLock { $0 = newValue } }
    }
}

/// The command line every Warren worker binary gets: `run`, `publish`, `status`, `dlq`, `schedule`, `queue`, `check-config`.
struct WarrenCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: CLIContext.worker.name,
            abstract: "A Warren worker: runs the registered task handlers on RabbitMQ.",
            discussion: "Tasks: \(CLIContext.worker.registry.names.joined(separator: ", "))",
            version: WarrenVersion.current,
            subcommands: [
                RunCommand.self, PublishCommand.self, StatusCommand.self, DLQCommand.self, ScheduleCommand.self, QueueCommand.self,
                CheckConfigCommand.self,
                ChildCommand.self,
            ])
    }
}

/// `--config FILE`, shared by every verb.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "The config file (default: $WARREN_CONFIG, then Config/warren.yaml).")
    var config: String?

    /// The config file named, or the default one.
    var path: String { config ?? ConfigLoader.defaultPath(environment: ProcessInfo.processInfo.environment) }

    /// Loads the config, or prints every problem and exits 78 (EX_CONFIG).
    func load() throws -> WarrenConfiguration {
        try orExit { () throws(ConfigurationError) in try ConfigLoader.load(path: path, environment: ProcessInfo.processInfo.environment) }
    }

    /// Loads the config into a snapshot for children (`run`), or prints every problem and exits 78.
    func loadSnapshot() throws -> ConfigSnapshot {
        try orExit { () throws(ConfigurationError) in try ConfigSnapshot(path: path, environment: ProcessInfo.processInfo.environment) }
    }

    /// Loads the config text a supervisor handed this child at `descriptor` (named after the
    /// file it came from), or prints every problem and exits 78.
    func load(handedAt descriptor: Int32) throws -> WarrenConfiguration {
        try orExit { () throws(ConfigurationError) in
            guard let text = ConfigSnapshot.text(at: descriptor) else {
                throw ConfigurationError(
                    .unreadable, problems: [.init(source: path, keyPath: "", message: "the supervisor's copy is unreadable")])
            }
            return try ConfigLoader.load(yaml: text, source: path, environment: ProcessInfo.processInfo.environment)
        }
    }

    private func orExit<T>(_ body: () throws(ConfigurationError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(ConfigurationError.exitStatus)
        }
    }
}

extension Worker {
    /// Parses the command line and runs the verb: `run`, `publish`, `dlq`, `check-config`.
    /// Call it last in `main.swift`; it exits the process with the verb's status.
    public func main() async {
        CLIContext.worker = self
        signal(SIGPIPE, SIG_IGN)
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == ChildCommand.configuration.commandName {
            // A child (re-executed by `run`) parses only its own verb: the whole command tree
            // reflects on every verb's options, memory each child would pay for nothing.
            await ChildCommand.main(Array(arguments.dropFirst()))
        } else {
            await WarrenCommand.main()
        }
    }
}

/// Sets up swift-log once for this process: one line per event on stderr, readable text (no
/// colours: journald keeps it as it is) or JSON (`log.format: json`).
enum LogSetup {
    private static let done = Mutex(false)

    static func bootstrap(_ config: LogConfig) -> Logger {
        let first = done.withLock { d -> Bool in
            defer { d = true }
            return !d
        }
        if first {
            switch config.format {
            case .text:
                LoggingSystem.bootstrap { label in
                    var handler = TextLogHandler(label: label)
                    handler.logLevel = config.level
                    return handler
                }
            case .json:
                LoggingSystem.bootstrap { label in
                    var handler = JSONLogHandler(label: label)
                    handler.logLevel = config.level
                    return handler
                }
            }
        }
        var logger = Logger(label: CLIContext.worker.name)
        logger.logLevel = config.level
        return logger
    }
}
