import AMQP
import Foundation
import Logging
import Synchronization

/// Carries out a child's ``ChildStopState`` decisions: cancels the worker's task, arms the
/// orphan's deadline, exits. Events may come from any thread (the lifeline's, a signal's task).
final class ChildStopper: Sendable {
    private let state = Mutex<(decisions: ChildStopState, work: Task<Void, any Error>?, cancelPending: Bool)>(
        (ChildStopState(), nil, false))
    private let shutdownTimeout: Duration
    private let reports: ReportWriter
    private let deaths: DeathsQueries
    private let logger: Logger

    init(shutdownTimeout: Duration, reports: ReportWriter, deaths: DeathsQueries, logger: Logger) {
        self.shutdownTimeout = shutdownTimeout
        self.reports = reports
        self.deaths = deaths
        self.logger = logger
    }

    /// The task running the worker; a stop decided before it existed applies now.
    func attach(_ work: Task<Void, any Error>) {
        let cancel = state.withLock { s -> Bool in
            s.work = work
            return s.cancelPending
        }
        if cancel { work.cancel() }
    }

    /// Takes `event` (`cause` says where it came from, for the log) and acts on it.
    func handle(_ event: ChildStopState.Event, cause: String) {
        let (actions, work) = state.withLock { s -> ([ChildStopState.Action], Task<Void, any Error>?) in
            let actions = s.decisions.handle(event)
            if actions.contains(.stopTakingTasks) && s.work == nil { s.cancelPending = true }
            return (actions, s.work)
        }
        for action in actions {
            switch action {
            case .stopTakingTasks:
                if event == .supervisorGone {
                    logger.warning(
                        "the supervisor is gone (\(cause)): stopping; running tasks may finish",
                        metadata: [
                            "deadline": "\(shutdownTimeout.humanReadable)"
                        ])
                }
                work?.cancel()  // warm: stop taking tasks, finish the running ones
            case .armDeadline:
                // Nobody answers deaths queries any more: a redelivered task need not wait for one.
                deaths.abandon()
                let (timeout, reports, logger) = (shutdownTimeout, reports, logger)
                detachThread(name: "warren-deadline") {
                    Thread.sleep(forTimeInterval: timeout.seconds)
                    logger.warning(
                        "shutdown_timeout passed without a supervisor: stopping now; unacknowledged tasks go back to their queues")
                    reports.flush()
                    exit(1)
                }
            case .exitNow:
                logger.warning("second signal: stopping now; unacknowledged tasks go back to their queues")
                reports.flush()
                exit(1)  // the connection closes with the process: the broker requeues what was not acked
            }
        }
    }
}
