#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#endif
internal import CRabbitMQ

/// Wakes a thread that waits in ``AMQPConnection/waitForInput(timeout:waker:)``, from any thread.
///
/// A Linux `eventfd`: ``wake()`` makes it readable, the waiting thread drains it. Wakes coalesce,
/// so a burst of a thousand acks costs the I/O thread one wake-up.
public final class AMQPWaker: Sendable {
    /// The eventfd, polled together with the connection's socket.
    public let descriptor: Int32

    /// Creates the eventfd (non-blocking, close-on-exec).
    public init() {
        descriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(descriptor >= 0, "eventfd failed: errno \(errno)")
    }

    deinit { Glibc.close(descriptor) }

    /// Makes the waiting thread return from ``AMQPConnection/waitForInput(timeout:waker:)``.
    public func wake() {
        var one: UInt64 = 1
        _ = write(descriptor, &one, 8)  // EAGAIN only when the counter is saturated: already awake
    }

    /// Resets the eventfd after a wake-up.
    func drain() {
        var value: UInt64 = 0
        _ = read(descriptor, &value, 8)
    }
}
