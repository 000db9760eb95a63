import AMQP
import Foundation
import Logging
import WarrenCore

/// Celery's canvas in a child: what a task's workflow asks for once it is settled (the decisions
/// are ``Canvas``'s; this only publishes them).
extension ChildWorker {
    /// Publishes `followUps` with the broker's confirms, in order: `.done` once every one was
    /// confirmed (the task may then be acked), `.failed` when one was not (the task goes back to
    /// its queue and publishes them again, under the same frozen task ids).
    ///
    /// A follow-up the broker returns (a `queue` option naming no queue) is not lost and does not
    /// send the task round again: it goes to the unrouted queue, with a log line.
    func publish(_ followUps: [FollowUp], of task: TaskMessage, io: AMQPConnectionThread, log: Logger) async -> Handover {
        for followUp in followUps {
            let (exchange, routingKey) = followUp.destination(taskExchange: configuration.exchange)
            let encoded = followUp.message.encoded()
            var outcome: AMQPChannel.PublishOutcome
            do {
                outcome = try await io.publish(
                    encoded.body, exchange: exchange, routingKey: routingKey, mandatory: true, properties: encoded.properties,
                    on: Self.publishChannel)
                if case .returned = outcome {
                    log.error(
                        "workflow message unroutable: kept in the unrouted queue",
                        metadata: [
                            "kind": "\(followUp.kind.rawValue)", "next.task.id": "\(followUp.message.id)",
                            "exchange": "\(ErrorText.bounded(exchange, maxBytes: 255))",
                            "routing_key": "\(ErrorText.bounded(routingKey, maxBytes: 255))",
                        ])
                    outcome = try await io.publish(
                        encoded.body, exchange: "", routingKey: configuration.unroutedQueue, mandatory: true,
                        properties: encoded.properties, on: Self.publishChannel)
                }
            } catch {
                log.error(
                    "workflow message not confirmed; the task goes back to its queue",
                    metadata: ["kind": "\(followUp.kind.rawValue)", "error": "\(ErrorText.bounded("\(error)", maxBytes: 512))"])
                return .failed
            }
            guard case .acked = outcome else {
                log.error(
                    "the broker did not take a workflow message; the task goes back to its queue",
                    metadata: ["kind": "\(followUp.kind.rawValue)", "outcome": "\(ErrorText.bounded("\(outcome)", maxBytes: 512))"])
                return .failed
            }
            log.debug(
                "workflow message sent",
                metadata: [
                    "kind": "\(followUp.kind.rawValue)", "next.task.id": "\(followUp.message.id)",
                    "next.task.name": "\(followUp.message.name)",
                ])
        }
        Self.crashForTestIfAsked()
        return .done
    }

    /// For the test of a child killed between publishing a task's follow-ups and acking the task
    /// (the redelivered task publishes them again, under the same frozen ids): when
    /// `WARREN_TEST_CRASH_AFTER_FOLLOWUPS` names a file that does not exist yet, the child creates
    /// it and SIGKILLs itself, once. Never set outside tests.
    private static func crashForTestIfAsked() {
        guard let marker = crashMarker, !FileManager.default.fileExists(atPath: marker) else { return }
        _ = FileManager.default.createFile(atPath: marker, contents: Data())
        kill(getpid(), SIGKILL)
    }

    private static let crashMarker = ProcessInfo.processInfo.environment["WARREN_TEST_CRASH_AFTER_FOLLOWUPS"]

    /// `task` failed for good (`failure` is its reply): the callers of the rest of its chain get
    /// the failure (those steps will never run), and its errbacks are published with its id.
    func endWorkflow(of task: TaskMessage, failure: TaskReply, io: AMQPConnectionThread, log: Logger) async -> Handover {
        let (errbacks, abandoned) = Canvas.afterFailure(of: task)
        for step in abandoned {
            var reply = failure
            reply.taskID = step.id
            reply.parentID = task.id
            self.reply(reply, to: step, io: io)
        }
        return await publish(errbacks, of: task, io: io, log: log)
    }
}
