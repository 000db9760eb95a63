import ArgumentParser
import Foundation
import WarrenClient
import WarrenCore

/// `publish TASK`: publishes one task through the routes; `--wait` prints its result.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish", abstract: "Publish one task through the routes (and wait for its result).")

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The task name, e.g. demo.add.")
    var task: String

    @Option(help: "Positional arguments, a JSON array, e.g. '[2, 3]'.")
    var args: String = "[]"

    @Option(help: "Keyword arguments, a JSON object, e.g. '{\"a\": 2}'.")
    var kwargs: String = "{}"

    @Option(help: "Run no sooner than this from now, e.g. 5s or 10m.")
    var countdown: String?

    @Option(help: "Not wanted after this from now (dead-lettered as expired), e.g. 1h.")
    var expires: String?

    @Flag(help: "Wait for the task's result and print it (exit 1 if the task failed).")
    var wait = false

    @Option(help: "With --wait: give up after this long.")
    var timeout: String = "60s"

    func run() async throws {
        let config = try options.load()
        guard case .array(let positional)? = try? JSONValue(parsing: args) else {
            throw ValidationError("--args must be a JSON array, e.g. '[2, 3]'; got \(args)")
        }
        guard case .object(let keywords)? = try? JSONValue(parsing: kwargs) else {
            throw ValidationError("--kwargs must be a JSON object, e.g. '{\"a\": 2}'; got \(kwargs)")
        }
        let countdown = try duration(self.countdown, "--countdown")
        let expiresIn = try duration(self.expires, "--expires")
        guard let timeout = Duration(humanReadable: self.timeout) else {
            throw ValidationError("--timeout must be a duration like 30s; got \(self.timeout)")
        }
        let message = TaskMessage(name: task, args: positional, kwargs: keywords, countdown: countdown, expiresIn: expiresIn)
        let publisher = try await WarrenClient(configuration: config)
        do {
            if wait {
                let value = try await publisher.call(message, timeout: timeout)
                print(value.jsonText)
            } else {
                try await publisher.publish(message)
                print(message.id)
            }
            await publisher.close()
        } catch let failed as TaskFailed {
            await publisher.close()
            FileHandle.standardError.write(Data("\(failed.state): \(failed.type): \(failed.message)\n".utf8))
            throw ExitCode.failure
        } catch {
            await publisher.close()
            FileHandle.standardError.write(Data("publish failed: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    private func duration(_ text: String?, _ option: String) throws -> Duration? {
        guard let text else { return nil }
        guard let d = Duration(humanReadable: text) else { throw ValidationError("\(option) must be a duration like 5s; got \(text)") }
        return d
    }
}
