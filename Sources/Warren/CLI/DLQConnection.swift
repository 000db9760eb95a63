import AMQP
import ArgumentParser
import Foundation
import WarrenCore

/// The broker connection of one `dlq` verb, and its failures as one readable line on stderr.
enum DLQConnection {
    /// Connects, runs `body`, closes. A broker error is printed (with a hint for a missing queue)
    /// and ends the verb with exit status 1.
    static func run<T>(
        _ configuration: WarrenConfiguration, verb: String, queue: String, _ body: (AMQPConnectionThread) async throws -> T
    ) async throws -> T {
        let io: AMQPConnectionThread
        do {
            io = try await configuration.broker.connect(
                name: "\(ProcessInfo.processInfo.processName) dlq \(verb) pid \(getpid())", threadName: "amqp-dlq")
        } catch {
            throw fail(verb, "cannot connect to the broker \(configuration.broker): \(error)")
        }
        do {
            let result = try await body(io)
            await io.close()
            return result
        } catch let error as AMQPError {
            await io.close()
            if error.serverClose?.replyCode == 404 {
                throw fail(verb, "\(error)\n(the queue '\(queue)' does not exist: has a worker declared the topology yet?)")
            }
            throw fail(verb, "\(error)")
        } catch {
            await io.close()
            throw error
        }
    }

    /// Prints `dlq VERB: message` on stderr; returns the exit status to throw.
    static func fail(_ verb: String, _ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("dlq \(verb): \(message)\n".utf8))
        return ExitCode.failure
    }
}
