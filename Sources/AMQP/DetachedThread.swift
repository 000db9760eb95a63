internal import CRabbitMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs `body` on a new detached pthread named `name` (its first 15 bytes show in `ps`, `top` and
/// `/proc/<pid>/task/*/comm`): the one thread starter of Warren, for loops that block in system
/// calls (librabbitmq's socket, a pipe's `read`, `posix_spawn`) and must stay off Swift's
/// cooperative pool.
///
/// Why not Foundation's `Thread`: it brings up CoreFoundation's `NSThread` machinery in every
/// child process, memory a blocking loop does not need.
package func detachThread(name: String, _ body: @escaping @Sendable () -> Void) {
    final class Start: Sendable {
        let body: @Sendable () -> Void
        let name: String
        init(_ body: @escaping @Sendable () -> Void, name: String) {
            self.body = body
            self.name = name
        }
    }
    let start = Unmanaged.passRetained(Start(body, name: name)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(
        &thread, nil,
        { raw in
            let start = Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue()
            _ = crabbitmq_set_thread_name(start.name)  // the kernel keeps the first 15 bytes
            start.body()
            return nil
        }, start)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    pthread_detach(thread)
}
