import AMQP
import ArgumentParser
import Foundation
import WarrenCore
import WarrenRuntime

/// `schedule list` and `schedule run NAME`: the periodic schedules of the config (docs/schedules.md).
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "List the periodic schedules, or fire one now.",
        subcommands: [ScheduleListCommand.self, ScheduleRunCommand.self])
}

/// `schedule list`: each schedule's timing and next fire; from the broker's record, its last
/// fire and which supervisor leads.
struct ScheduleListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Show each schedule: when it fires, its next and last fire, and which supervisor leads.",
        discussion: """
            The last fires and the leader come from the record the leader writes on the broker at every fire \
            and every minute (<exchange>.scheduler.state); without a broker they are unknown, and the exit status is 1.
            """)

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        guard !config.schedules.isEmpty else {
            print("no schedules in \(options.path)")
            return
        }
        let now = Date()
        var lastFired: [String: Date] = [:]
        var reachable = true
        do {
            let io = try await config.broker.connect(name: "\(ProcessInfo.processInfo.processName) schedule list", threadName: "amqp-cli")
            let read: (ScheduleRecord.Snapshot?, participants: Int)
            do {
                read = try await ScheduleRecord.read(exchange: config.exchange, on: io)
                await io.close()
            } catch {
                await io.close()
                throw error
            }
            let (snapshot, _) = read
            if let snapshot {
                lastFired = snapshot.lastFired
                let age = now.timeIntervalSince(snapshot.writtenAt)
                // The leader writes at least once a minute: an older record may name a leader that is gone.
                let stale = age > 150 ? "; no write for \(Int(age))s, the leader may have changed since" : ""
                print("leader: \(snapshot.writer) (last wrote \(CeleryTime.format(snapshot.writtenAt))\(stale))")
            } else {
                print("leader: unknown (no leader has written the record yet)")
            }
        } catch {
            reachable = false
            print("leader: unknown (cannot read the broker: \(error))")
        }
        print("")
        ScheduleTable.lines(config.schedules, now: now, lastFired: lastFired).forEach { print($0) }
        if !reachable { throw ExitCode.failure }
    }
}

/// `schedule run NAME`: publishes the schedule's task once, now, with a fresh task id.
struct ScheduleRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Fire a schedule once now (a fresh task id; the schedule's own ticks are not affected).")

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The schedule's name, as in the config.")
    var name: String

    func run() async throws {
        let config = try options.load()
        guard let schedule = config.schedule(named: name) else {
            let known = config.schedules.map(\.name).joined(separator: ", ")
            throw ValidationError("no schedule named \(name) in \(options.path)" + (known.isEmpty ? "" : "; the schedules are \(known)"))
        }
        let now = Date()
        let lifetime = schedule.expires ?? schedule.timing.period(at: now)
        let message = ScheduleMessage(
            schedule: schedule, exchange: config.exchange, tick: now, expiresAt: lifetime.map { now.addingTimeInterval($0.seconds) },
            id: TaskMessage.newID())
        do {
            let io = try await config.broker.connect(name: "\(ProcessInfo.processInfo.processName) schedule run", threadName: "amqp-cli")
            let outcome: AMQPChannel.PublishOutcome
            do {
                try await io.perform { connection throws(AMQPError) in _ = try connection.openChannel(1) }
                let encoded = message.task.encoded(now: now)
                outcome = try await io.publish(
                    encoded.body, exchange: message.exchange, routingKey: message.routingKey, mandatory: true,
                    properties: encoded.properties, on: 1)
                await io.close()
            } catch {
                await io.close()
                throw error
            }
            switch outcome {
            case .acked: print(message.task.id)
            case .nacked: throw WarrenCLIError("the broker refused the message")
            case .returned: throw WarrenCLIError("no queue takes routing key \(message.routingKey) on exchange \"\(message.exchange)\"")
            }
        } catch {
            FileHandle.standardError.write(Data("schedule run failed: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// A failure of a verb, said in words.
struct WarrenCLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
