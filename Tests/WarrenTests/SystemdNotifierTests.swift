import Foundation
import Synchronization
import Testing
import WarrenTestSupport

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#endif

/// A count shared with a `@Sendable` closure.
private final class RoundCounter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() -> Int {
        count.withLock {
            $0 += 1; return $0
        }
    }
}

@Suite("SystemdNotifier: sd_notify without libsystemd")
struct SystemdNotifierTests {
    @Test("sends READY, STATUS, STOPPING, WATCHDOG to a path or an abstract name", arguments: [NotifyListener.Kind.path, .abstract])
    func sendsToListener(kind: NotifyListener.Kind) throws {
        let listener = try NotifyListener(kind)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address])
        #expect(notifier.isEnabled)

        #expect(notifier.ready())
        #expect(listener.receive() == "READY=1\n")
        #expect(notifier.ready(status: "4 children consuming"))
        #expect(listener.receive() == "READY=1\nSTATUS=4 children consuming\n")
        #expect(notifier.status("line one\nline two"))
        #expect(listener.receive() == "STATUS=line one line two\n")
        #expect(notifier.stopping(status: "warm shutdown"))
        #expect(listener.receive() == "STOPPING=1\nSTATUS=warm shutdown\n")
        #expect(notifier.ping())
        #expect(listener.receive() == "WATCHDOG=1\n")
        #expect(notifier.triggerWatchdog())
        #expect(listener.receive() == "WATCHDOG=trigger\n")
        #expect(notifier.mainPID(4242))
        #expect(listener.receive() == "MAINPID=4242\n")
        #expect(notifier.extendTimeout(by: .milliseconds(90_500)))
        #expect(listener.receive() == "EXTEND_TIMEOUT_USEC=90500000\n")
        #expect(notifier.lastError == nil)
        #expect(listener.receiveQueued() == nil)
    }

    @Test("STATUS never waits on a manager that does not read: 200 lines to a full socket take well under a second")
    func statusDoesNotBlock() throws {
        let listener = try NotifyListener(.path)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address])
        let began = ContinuousClock.now
        let delivered = (0..<200).filter { notifier.status("\($0)/100 children consuming") }.count
        let took = ContinuousClock.now - began
        #expect(took < .seconds(1), "200 status lines took \(took)")  // each waited 1 s once the queue was full
        #expect(delivered >= 1 && delivered < 200)  // the queue filled; the rest were dropped
        #expect(listener.receive() == "STATUS=0/100 children consuming\n")
        #expect(notifier.ready())  // READY still goes through once there is room
    }

    @Test("RELOADING=1 carries MONOTONIC_USEC, the CLOCK_MONOTONIC time of the send")
    func reloading() throws {
        let listener = try NotifyListener(.path)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address])
        let before = SystemdNotifier.monotonicMicroseconds()
        #expect(notifier.reloading(status: "reloading config"))
        let after = SystemdNotifier.monotonicMicroseconds()
        let lines = try #require(listener.receive()).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.first == "RELOADING=1")
        #expect(lines.last == "STATUS=reloading config")
        let usec = try #require(lines.dropFirst().first.flatMap { $0.split(separator: "=").last }.flatMap { UInt64($0) })
        #expect(lines[1].hasPrefix("MONOTONIC_USEC="))
        #expect(before <= usec && usec <= after)
    }

    @Test("the watchdog interval is half of WATCHDOG_USEC, for this process only")
    func watchdogInterval() {
        let pid = getpid()
        let on = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "4000000"])
        #expect(on.watchdogTimeout == .seconds(4))
        #expect(on.watchdogInterval == .seconds(2))

        let mine = SystemdNotifier(environment: ["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "\(pid)"])
        #expect(mine.watchdogInterval == .seconds(2))

        let injected = SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "77"], processID: 77)
        #expect(injected.watchdogInterval == .seconds(15))

        for environment in [
            ["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "\(pid + 1)"],  // another process's watchdog
            ["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "not-a-pid"],
            ["WATCHDOG_USEC": "0"],
            ["WATCHDOG_USEC": "-5"],
            ["WATCHDOG_USEC": "soon"],
            [:],
        ] {
            #expect(SystemdNotifier(environment: environment).watchdogInterval == nil, "\(environment)")
        }
    }

    @Test("without NOTIFY_SOCKET nothing is sent and nothing fails")
    func disabled() async {
        for environment in [[:], ["NOTIFY_SOCKET": ""], ["WATCHDOG_USEC": "4000000"]] {
            let notifier = SystemdNotifier(environment: environment)
            #expect(!notifier.isEnabled)
            #expect(notifier.socketPath == nil)
            #expect(!notifier.ready(status: "x"))
            #expect(!notifier.ping())
            #expect(!notifier.stopping())
            #expect(notifier.lastError == nil)
            #expect(notifier.startWatchdog { true } == nil)
            await notifier.runWatchdog { true }  // returns at once
        }
    }

    @Test("a failed send returns false and sets lastError; the next success clears it")
    func failures() throws {
        let missing = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent-warren-dir/notify"])
        #expect(!missing.ready())
        let error = try #require(missing.lastError)
        #expect(error.code == .send)
        #expect(error.errno == ENOENT)
        #expect(error.description == "sd_notify to /nonexistent-warren-dir/notify: sendto: No such file or directory (errno 2)")

        for bad in [
            "relative/notify", "@", "/" + String(repeating: "a", count: 107), "@" + String(repeating: "a", count: 108), "vsock:2:1234",
        ] {
            let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": bad])
            #expect(notifier.isEnabled)
            #expect(!notifier.ping())
            #expect(notifier.lastError?.code == .invalidAddress, "\(bad)")
        }

        // The longest addresses that fit: 107 bytes + NUL for a path, @ + 107 bytes for a name.
        var address = sockaddr_un()
        let offset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        let longPath = "/" + String(repeating: "a", count: 106)
        guard case .success(let pathLength) = SystemdNotifier.fillAddress(&address, longPath) else {
            Issue.record("a 107-byte path is valid")
            return
        }
        #expect(Int(pathLength) == offset + 108)
        guard case .success(let nameLength) = SystemdNotifier.fillAddress(&address, "@" + String(repeating: "b", count: 107)) else {
            Issue.record("a 107-byte abstract name is valid")
            return
        }
        #expect(Int(nameLength) == offset + 108)
        #expect(address.sun_path.0 == 0)
        #expect(address.sun_path.1 == CChar(UInt8(ascii: "b")))

        // A listener that goes away and comes back: the next delivered message clears the error.
        let listener = try NotifyListener(.path)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address])
        #expect(unlink(listener.address) == 0)
        #expect(!notifier.ping())
        #expect(notifier.lastError?.errno == ENOENT)
        let back = try NotifyListener(.at(listener.address))
        #expect(notifier.ping())
        #expect(notifier.lastError == nil)
        #expect(back.receive() == "WATCHDOG=1\n")
    }

    @Test("the watchdog loop pings only while healthy, and stops when cancelled")
    func watchdogLoop() async throws {
        let listener = try NotifyListener(.path)
        // 20 ms timeout: a ping every 10 ms.
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "20000"])
        #expect(notifier.watchdogInterval == .milliseconds(10))

        // Healthy for two rounds, then not; the fifth round tells the test to stop the loop.
        let rounds = RoundCounter()
        let (fifthRound, signal) = AsyncStream.makeStream(of: Void.self)
        let task = try #require(
            notifier.startWatchdog {
                let n = rounds.increment()
                if n == 5 { signal.yield(); signal.finish() }
                return n <= 2
            })
        for await _ in fifthRound { break }
        task.cancel()
        await task.value

        #expect(rounds.value >= 5)
        #expect(listener.receiveQueued() == "WATCHDOG=1\n")
        #expect(listener.receiveQueued() == "WATCHDOG=1\n")
        #expect(listener.receiveQueued() == nil)  // unhealthy rounds sent nothing, and the loop has ended
    }

    @Test("children get the environment without NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID")
    func environmentForChildren() {
        let parent = [
            "NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1234",
            "PATH": "/usr/bin:/bin", "WARREN_BROKER_URL": "amqp://u:p@h/%2F", "INVOCATION_ID": "abc",
        ]
        let child = SystemdNotifier.environmentForChildren(parent)
        #expect(child == ["PATH": "/usr/bin:/bin", "WARREN_BROKER_URL": "amqp://u:p@h/%2F", "INVOCATION_ID": "abc"])
        #expect(SystemdNotifier(environment: child).isEnabled == false)
        #expect(SystemdNotifier.environmentForChildren([:]).isEmpty)
    }

    @Test("encodes several messages into one datagram, a line each")
    func encoding() {
        let text = SystemdNotifier.encode(
            [.ready, .status("a\r\nb"), .reloading, .stopping, .watchdog, .mainPID(7), .extendTimeout(.seconds(-1))],
            monotonicMicroseconds: 123)
        #expect(
            text == "READY=1\nSTATUS=a b\nRELOADING=1\nMONOTONIC_USEC=123\nSTOPPING=1\nWATCHDOG=1\nMAINPID=7\nEXTEND_TIMEOUT_USEC=0\n")
    }
}
