import Foundation
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#endif

/// Tells systemd how the service is doing: the `sd_notify` protocol, without libsystemd.
///
/// systemd starts a `Type=notify` service with `NOTIFY_SOCKET` in its environment: the path of a
/// `SOCK_DGRAM` unix socket (or, when it starts with `@`, a name in the abstract namespace). A
/// notification is one datagram of newline-separated `KEY=VALUE` lines: `READY=1` once the service
/// works, `STATUS=...` for `systemctl status`, `RELOADING=1` and `STOPPING=1` around a reload and
/// a shutdown, `WATCHDOG=1` to keep the watchdog (`WatchdogSec=`) from firing.
///
/// When `NOTIFY_SOCKET` is not set (the worker runs in a terminal, or under a `Type=simple`
/// unit) every method does nothing and returns `false` at the cost of one branch.
///
/// A failed send never throws and never stops the caller: the method returns `false` and
/// ``lastError`` says why, for the caller to log. The supervisor, as the unit's main process,
/// is the one to send (`NotifyAccess=main`); start children with
/// ``environmentForChildren(_:)`` so that they cannot.
///
/// ```swift
/// let systemd = SystemdNotifier()
/// // ... every child consumes:
/// if !systemd.ready(status: "4 children consuming") { logger.warning("sd_notify: \(systemd.lastError!)") }
/// let watchdog = systemd.startWatchdog { supervisor.isHealthy }
/// // ... SIGTERM:
/// systemd.stopping(status: "warm shutdown")
/// watchdog?.cancel()
/// ```
///
/// It is `Sendable`: its configuration is immutable, and ``lastError`` is guarded by a `Mutex`.
/// Each notification opens, uses and closes its own socket (as libsystemd does), so nothing is
/// left open across a `posix_spawn` and no descriptor needs closing.
package final class SystemdNotifier: Sendable {
    /// One notification line. A datagram can carry several; systemd reads them together.
    package enum Message: Sendable, Hashable {
        /// `READY=1`: start-up (or a reload) is complete. For Warren: every child consumes.
        case ready
        /// `RELOADING=1`, sent together with `MONOTONIC_USEC=` (the current `CLOCK_MONOTONIC`
        /// time), which systemd 253+ requires for `Type=notify-reload`. Send ``ready`` when the
        /// reload is done.
        case reloading
        /// `STOPPING=1`: shutdown has begun.
        case stopping
        /// `STATUS=...`: one line for `systemctl status`. Newlines become spaces.
        case status(String)
        /// `WATCHDOG=1`: the service is alive and well.
        case watchdog
        /// `WATCHDOG=trigger`: the service knows it is unwell; systemd acts as if the watchdog
        /// timed out (`Restart=on-watchdog`/`on-failure` restart it).
        case watchdogTrigger
        /// `MAINPID=`: the service's main process is another one than the sender.
        case mainPID(Int32)
        /// `EXTEND_TIMEOUT_USEC=`: the current start, reload or stop takes longer than its timeout
        /// allows; systemd waits at least this long from now (send again to extend further).
        case extendTimeout(Duration)
    }

    /// Where the datagrams go: the value of `NOTIFY_SOCKET`, or `nil` when it is unset or empty.
    /// An `@` at the start means a name in the abstract namespace.
    package let socketPath: String?

    /// How long systemd waits for a `WATCHDOG=1` before it considers the service hung
    /// (`WATCHDOG_USEC`), or `nil` when the watchdog is off, or meant for another process
    /// (`WATCHDOG_PID` differs from this process's id).
    package let watchdogTimeout: Duration?

    /// How often to send `WATCHDOG=1`: half of ``watchdogTimeout``, as `sd_watchdog_enabled(3)`
    /// recommends, or `nil` when the watchdog is off.
    package var watchdogInterval: Duration? { watchdogTimeout.map { $0 / 2 } }

    /// Whether notifications are sent at all: `NOTIFY_SOCKET` is set.
    package var isEnabled: Bool { socketPath != nil }

    /// Why the last notification failed, or `nil` when it was delivered (or when none was sent).
    /// Its description reads like a log line, e.g.
    /// `sd_notify to /run/systemd/notify: sendto: Connection refused (errno 111)`.
    package var lastError: SystemdNotifierError? { state.withLock { $0 } }

    private let state = Mutex<SystemdNotifierError?>(nil)

    /// Reads the notification socket and the watchdog settings from an environment.
    ///
    /// - Parameters:
    ///   - environment: Where to find `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`.
    ///     Defaults to the process's environment.
    ///   - processID: This process's id, compared with `WATCHDOG_PID`. Defaults to `getpid()`.
    package init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        processID: Int32 = getpid()
    ) {
        let path = environment["NOTIFY_SOCKET"] ?? ""
        socketPath = path.isEmpty ? nil : path
        watchdogTimeout = Self.watchdogTimeout(environment: environment, processID: processID)
    }

    /// The environment to give a child process: `environment` without `NOTIFY_SOCKET`,
    /// `WATCHDOG_USEC` and `WATCHDOG_PID`.
    ///
    /// A child that inherited them could send `READY=1` or `WATCHDOG=1` on the supervisor's
    /// behalf (systemd ignores it under `NotifyAccess=main`, and logs a warning each time). This
    /// is what libsystemd's `unset_environment` flag is for; the process's own environment is not
    /// changed, because `unsetenv` is not safe while other threads may read the environment.
    ///
    /// - Parameter environment: The supervisor's environment, usually
    ///   `ProcessInfo.processInfo.environment`.
    /// - Returns: The same variables, minus the three.
    package static func environmentForChildren(_ environment: [String: String]) -> [String: String] {
        environment.filter { !childExcludedVariables.contains($0.key) }
    }

    /// The variables ``environmentForChildren(_:)`` removes.
    package static let childExcludedVariables: Set<String> = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]

    // MARK: - Notifications

    /// Sends `READY=1`, and `STATUS=` when `status` is given.
    ///
    /// - Parameter status: A line for `systemctl status`, or `nil` for none (the default).
    /// - Returns: Whether systemd got it; `false` when notifications are off or the send failed
    ///   (see ``lastError``).
    @discardableResult
    package func ready(status: String? = nil) -> Bool {
        notify([.ready] + (status.map { [.status($0)] } ?? []))
    }

    /// Sends `RELOADING=1` with `MONOTONIC_USEC=`, and `STATUS=` when `status` is given. Send
    /// ``ready(status:)`` once the new configuration is in effect: systemd considers the reload
    /// under way until then.
    ///
    /// - Parameter status: A line for `systemctl status`, or `nil` for none (the default).
    /// - Returns: Whether systemd got it (see ``ready(status:)``).
    @discardableResult
    package func reloading(status: String? = nil) -> Bool {
        notify([.reloading] + (status.map { [.status($0)] } ?? []))
    }

    /// Sends `STOPPING=1`, and `STATUS=` when `status` is given.
    ///
    /// - Parameter status: A line for `systemctl status`, or `nil` for none (the default).
    /// - Returns: Whether systemd got it (see ``ready(status:)``).
    @discardableResult
    package func stopping(status: String? = nil) -> Bool {
        notify([.stopping] + (status.map { [.status($0)] } ?? []))
    }

    /// Sends `STATUS=`: one line for `systemctl status` (newlines become spaces).
    ///
    /// Never waits: when the socket's queue is full (a manager that does not read, or a burst
    /// of children stopping) the line is dropped, and the next one replaces it anyway. Blocking
    /// here held the supervisor a second per line: 100 children stopping took over 100 s.
    ///
    /// - Parameter text: The status line, e.g. `4/4 children consuming`.
    /// - Returns: Whether systemd got it (see ``ready(status:)``).
    @discardableResult
    package func status(_ text: String) -> Bool {
        notify([.status(text)], wait: false)
    }

    /// Sends `WATCHDOG=1`.
    ///
    /// Call it from the loop that knows the service is healthy, and only when it is: a watchdog
    /// fed from a timer regardless of health only detects a dead process, which systemd already
    /// sees. ``runWatchdog(healthy:)`` is such a loop.
    ///
    /// - Returns: Whether systemd got it (see ``ready(status:)``).
    @discardableResult
    package func ping() -> Bool {
        notify([.watchdog])
    }

    /// Sends `WATCHDOG=trigger`: systemd handles the service as if the watchdog had timed out.
    ///
    /// - Returns: Whether systemd got it (see ``ready(status:)``).
    @discardableResult
    package func triggerWatchdog() -> Bool {
        notify([.watchdogTrigger])
    }

    /// Sends `MAINPID=`: the unit's main process is `pid`.
    ///
    /// - Parameter pid: The new main process id.
    /// - Returns: Whether systemd got it (see ``ready(status:)``).
    @discardableResult
    package func mainPID(_ pid: Int32) -> Bool {
        notify([.mainPID(pid)])
    }

    /// Sends `EXTEND_TIMEOUT_USEC=`: the current start, reload or stop may take `duration` more
    /// from now, beyond `TimeoutStartSec=`/`TimeoutStopSec=`.
    ///
    /// - Parameter duration: How long systemd should wait at least, from now.
    /// - Returns: Whether systemd got it (see ``ready(status:)``).
    @discardableResult
    package func extendTimeout(by duration: Duration) -> Bool {
        notify([.extendTimeout(duration)])
    }

    /// Sends the messages as one datagram.
    ///
    /// - Parameter messages: The lines to send; nothing is sent when it is empty.
    /// - Returns: Whether systemd got them; `false` when notifications are off or the send
    ///   failed. A failure sets ``lastError``, a success clears it.
    @discardableResult
    package func notify(_ messages: [Message]) -> Bool {
        notify(messages, wait: true)
    }

    /// ``notify(_:)``; with `wait: false` a full socket queue drops the datagram at once.
    func notify(_ messages: [Message], wait: Bool) -> Bool {
        guard let socketPath, !messages.isEmpty else { return false }
        let datagram = Self.encode(messages, monotonicMicroseconds: Self.monotonicMicroseconds())
        let error = Self.send(datagram, to: socketPath, wait: wait)
        state.withLock { $0 = error }
        return error == nil
    }

    // MARK: - Watchdog loop

    /// Sends `WATCHDOG=1` every ``watchdogInterval`` while `healthy()` says so, until the task
    /// is cancelled. Returns at once when the watchdog is off.
    ///
    /// When `healthy()` returns `false` nothing is sent that round, so systemd restarts the
    /// service once ``watchdogTimeout`` passes without a healthy round. Put the real test in
    /// `healthy`: the supervisor's loop is running, and its children consume.
    ///
    /// - Parameter healthy: Asked once per interval, on the calling task; it must be quick.
    package func runWatchdog(healthy: @Sendable () -> Bool) async {
        guard isEnabled, let interval = watchdogInterval else { return }
        while !Task.isCancelled {
            if healthy() { ping() }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return  // cancelled
            }
        }
    }

    /// Starts ``runWatchdog(healthy:)`` in a new task; cancel the task to stop it.
    ///
    /// - Parameter healthy: Asked once per interval; it must be quick.
    /// - Returns: The task, or `nil` when the watchdog is off (no `NOTIFY_SOCKET` or no
    ///   `WATCHDOG_USEC` for this process).
    @discardableResult
    package func startWatchdog(healthy: @escaping @Sendable () -> Bool) -> Task<Void, Never>? {
        guard isEnabled, watchdogInterval != nil else { return nil }
        return Task { await self.runWatchdog(healthy: healthy) }
    }

    // MARK: - Internals

    /// `WATCHDOG_USEC` as a duration, if it is a positive integer and `WATCHDOG_PID` is unset or
    /// this process's id (as `sd_watchdog_enabled(3)` checks).
    static func watchdogTimeout(environment: [String: String], processID: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let pidText = environment["WATCHDOG_PID"], !pidText.isEmpty {
            guard let pid = Int32(pidText), pid == processID else { return nil }
        }
        return .microseconds(usec)
    }

    /// The datagram for `messages`: one `KEY=VALUE` line each, each ended by a newline.
    static func encode(_ messages: [Message], monotonicMicroseconds: UInt64) -> String {
        var text = ""
        for message in messages {
            switch message {
            case .ready: text += "READY=1\n"
            case .reloading: text += "RELOADING=1\nMONOTONIC_USEC=\(monotonicMicroseconds)\n"
            case .stopping: text += "STOPPING=1\n"
            case .status(let status):
                let line = status.map { $0.isNewline ? " " : String($0) }.joined()
                text += "STATUS=\(line)\n"
            case .watchdog: text += "WATCHDOG=1\n"
            case .watchdogTrigger: text += "WATCHDOG=trigger\n"
            case .mainPID(let pid): text += "MAINPID=\(pid)\n"
            case .extendTimeout(let duration): text += "EXTEND_TIMEOUT_USEC=\(microseconds(duration))\n"
            }
        }
        return text
    }

    /// Whole microseconds of a duration, 0 for a negative one.
    private static func microseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000 + UInt64(attoseconds / 1_000_000_000_000)
    }

    /// `CLOCK_MONOTONIC` now, in microseconds: what systemd compares `MONOTONIC_USEC` with.
    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }

    /// How long one send may block when systemd's socket buffer is full, so that a stalled
    /// manager cannot hold the caller's thread for long (libsystemd waits without limit).
    static let sendTimeout = timeval(tv_sec: 1, tv_usec: 0)

    /// Sends one datagram to `socketPath` from a fresh socket; returns the failure, or `nil`.
    static func send(_ datagram: String, to socketPath: String, wait: Bool = true) -> SystemdNotifierError? {
        var address = sockaddr_un()
        let length: socklen_t
        switch fillAddress(&address, socketPath) {
        case .success(let l): length = l
        case .failure(let error): return error
        }

        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return SystemdNotifierError(.socket, socketPath: socketPath, errno: errno) }
        defer { close(fd) }
        var timeout = sendTimeout
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var bytes = Array(datagram.utf8)
        let count = bytes.count
        while true {
            let sent = bytes.withUnsafeMutableBytes { buffer in
                withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, buffer.baseAddress, count, Int32(MSG_NOSIGNAL) | (wait ? 0 : Int32(MSG_DONTWAIT)), $0, length)
                    }
                }
            }
            if sent == count { return nil }
            if sent >= 0 { return SystemdNotifierError(.shortWrite, socketPath: socketPath, errno: 0) }
            let code = errno
            if code == EINTR { continue }
            return SystemdNotifierError(.send, socketPath: socketPath, errno: code)
        }
    }

    /// Fills a `sockaddr_un` for `NOTIFY_SOCKET`'s value and returns the length to pass with it.
    ///
    /// A path (`/run/systemd/notify`) is copied with its terminating NUL, which must fit in
    /// `sun_path` (108 bytes); the length covers the path and the NUL. An abstract name
    /// (`@name`) becomes a leading NUL followed by the name's bytes, without a terminating NUL:
    /// abstract names are byte strings whose length is given only by the length argument.
    static func fillAddress(_ address: inout sockaddr_un, _ socketPath: String) -> Result<socklen_t, SystemdNotifierError> {
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? MemoryLayout<sa_family_t>.size
        var bytes = Array(socketPath.utf8)
        let used: Int
        switch bytes.first {
        case UInt8(ascii: "@"):
            bytes[0] = 0
            guard bytes.count > 1, bytes.count <= capacity else {
                return .failure(SystemdNotifierError(.invalidAddress, socketPath: socketPath, errno: 0))
            }
            used = bytes.count
        case UInt8(ascii: "/"):
            guard !bytes.contains(0), bytes.count < capacity else {
                return .failure(SystemdNotifierError(.invalidAddress, socketPath: socketPath, errno: 0))
            }
            bytes.append(0)
            used = bytes.count
        default:  // relative paths and vsock: addresses are not supported
            return .failure(SystemdNotifierError(.invalidAddress, socketPath: socketPath, errno: 0))
        }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { sunPath in
            sunPath.copyBytes(from: bytes)
        }
        return .success(socklen_t(pathOffset + used))
    }
}

/// Why a notification to systemd failed: ``SystemdNotifier/lastError``.
package struct SystemdNotifierError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What failed. New codes may be added; switch with a `default`.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidAddress, socket, send, shortWrite
        }
        private let base: Base

        /// `NOTIFY_SOCKET` is neither an absolute path nor an `@` abstract name, or too long
        /// for a unix socket address (107 bytes for a path, 107 after the `@`).
        package static let invalidAddress = Code(base: .invalidAddress)
        /// `socket(AF_UNIX, SOCK_DGRAM)` failed (see ``SystemdNotifierError/errno``).
        package static let socket = Code(base: .socket)
        /// `sendto` failed: no listener (`ECONNREFUSED`, `ENOENT`), no permission, or systemd's
        /// buffer stayed full for a second (`EAGAIN`).
        package static let send = Code(base: .send)
        /// The datagram went out incomplete.
        package static let shortWrite = Code(base: .shortWrite)

        package var description: String { base.rawValue }
    }

    /// What failed.
    package var code: Code
    /// The value of `NOTIFY_SOCKET`.
    package var socketPath: String
    /// The C `errno`, or 0 when none applies.
    package var errno: Int32

    /// Creates an error.
    package init(_ code: Code, socketPath: String, errno: Int32) {
        self.code = code
        self.socketPath = socketPath
        self.errno = errno
    }

    /// For example `sd_notify to /run/systemd/notify: sendto: Connection refused (errno 111)`.
    package var description: String {
        let what: String
        switch code {
        case .invalidAddress: what = "NOTIFY_SOCKET is not an absolute path or @abstract name of at most 107 bytes"
        case .socket: what = "socket"
        case .send: what = "sendto"
        default: what = "datagram sent incomplete"
        }
        guard errno != 0 else { return "sd_notify to \(socketPath): \(what)" }
        return "sd_notify to \(socketPath): \(what): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
