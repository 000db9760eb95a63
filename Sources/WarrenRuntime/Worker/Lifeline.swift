import AMQP
import CWarrenSystem
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How a child learns that its supervisor died, by two independent means, so that neither
/// failing leaves an orphan consuming the queues with nobody enforcing limits or counting tasks:
///
/// 1. **The parent-death signal** (``deathSignal``, `PR_SET_PDEATHSIG`). The kernel keeps this
///    setting per *thread* and drops it when that thread exits. It used to be set from a Swift
///    task, on whichever cooperative-pool thread ran it; the pool retires idle threads after a
///    few seconds, so a supervisor that had idled ~8 s could die without its children being
///    told. Here it is set by the lifeline's own thread, which never exits.
/// 2. **The end of the supervisor's pipe.** The child's standard input is the write-protected
///    end of a pipe whose other end only the supervisor holds (close-on-exec, never inherited by
///    a sibling). The kernel closes it when the supervisor dies, however it dies and whoever
///    adopts the child (init, systemd, tini, supervisord, a shell), and the lifeline's blocking
///    `read` returns end of file. This needs no signal and no cooperative pool.
///
/// The same thread reads the supervisor's notices (answers to deaths queries) from that pipe.
enum Lifeline {
    /// The parent-death signal. Not SIGTERM: a child must tell "my supervisor died" (arm its own
    /// deadline) from "stop" (and a second "stop": exit now). Anyone may send it, so a child
    /// believes it only when its parent is no longer its supervisor.
    static let deathSignal = SIGUSR2

    /// Starts the lifeline thread of a child whose supervisor is `supervisor`, reading
    /// `control` (the child's standard input).
    /// - Parameters:
    ///   - notice: Called with each line the supervisor writes, on the lifeline's thread.
    ///   - lost: Called once, on the lifeline's thread, when the pipe ends (the supervisor died).
    /// - Returns: `false` when the supervisor is gone already (it died before the child could
    ///   ask to be told): the child must not start.
    static func hold(
        supervisor: pid_t, control: Int32, notice: @escaping @Sendable (Substring) -> Void, lost: @escaping @Sendable () -> Void
    ) -> Bool {
        let alive = Mutex(false)
        let ready = DispatchSemaphore(value: 0)
        detachThread(name: "warren-lifeline") {
            _ = cws_set_parent_death_signal(deathSignal)
            // A supervisor that died before the line above can no longer signal us: look.
            let living = getppid() == supervisor
            alive.withLock { $0 = living }
            ready.signal()
            if living {
                LineReader.readLines(from: control) { line in notice(Substring(String(decoding: line, as: UTF8.self))) }
                lost()
            }
            // Never exit: the parent-death setting lives and dies with this thread.
            while true { pause() }
        }
        ready.wait()
        return alive.withLock { $0 }
    }

    /// Whether the supervisor `supervisor` is gone (this process has another parent now).
    static func supervisorIsGone(_ supervisor: pid_t) -> Bool { getppid() != supervisor }
}
