import AMQP
import CWarrenSystem
import Foundation
import Synchronization

/// Spawns child processes from one thread that lives as long as the process.
///
/// The kernel's parent-death signal (PR_SET_PDEATHSIG), which stops the children when the
/// supervisor dies, fires when the *thread* that spawned them exits, not the process. Swift's
/// tasks, the main actor included on Linux (the main thread parks in `dispatch_main`), run on
/// pool threads that come and go; a child spawned from one would be told to stop when that
/// thread retires.
final class Spawner: Sendable {
    static let shared = Spawner()

    private struct Request {
        var path: String
        var argv: [String]
        var envp: [String]
        var statusFD: Int32
        var controlFD: Int32
        var configFD: Int32
        var done: CheckedContinuation<(pid_t, Int32), Never>
    }
    private let queue = Mutex<[Request]>([])
    private let wakeup = DispatchSemaphore(value: 0)

    private init() {
        detachThread(name: "warren-spawner") { [self] in
            while true {
                wakeup.wait()
                let requests = queue.withLock { q in
                    defer { q.removeAll() }
                    return q
                }
                for r in requests {
                    var error: Int32 = 0
                    let pid = withCStrings(r.argv) { argv in
                        withCStrings(r.envp) { envp in cws_spawn(r.path, argv, envp, r.statusFD, r.controlFD, r.configFD, &error) }
                    }
                    r.done.resume(returning: (pid, error))
                }
            }
        }
    }

    /// Spawns `path` with `argv` and `envp`; `statusFD` becomes fd 3, `controlFD` fd 0 and
    /// `configFD` (unless -1) fd 4.
    /// - Returns: The pid, or -1 and the error number.
    func spawn(path: String, argv: [String], envp: [String], statusFD: Int32, controlFD: Int32, configFD: Int32 = -1) async
        -> (pid_t, Int32)
    {
        await withCheckedContinuation { continuation in
            queue.withLock {
                $0.append(
                    Request(
                        path: path, argv: argv, envp: envp, statusFD: statusFD, controlFD: controlFD, configFD: configFD, done: continuation
                    ))
            }
            wakeup.signal()
        }
    }
}

/// Calls `body` with a NULL-terminated C array of C strings.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return body(pointers)
}
