import Foundation

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#endif

/// A stand-in for systemd's notification socket: a `SOCK_DGRAM` unix socket bound to a path in a
/// fresh temporary directory, or to an abstract name, that tests read datagrams from.
public final class NotifyListener: Sendable {
    public let descriptor: Int32
    /// What to put in `NOTIFY_SOCKET`: the path, or `@name`.
    public let address: String
    private let directory: String?

    public enum Kind: Sendable {
        /// A path in a new temporary directory.
        case path
        /// `@warren-test-<random>`.
        case abstract
        /// Exactly this `NOTIFY_SOCKET` value (a path whose directory exists, or `@name`).
        case at(String)
    }

    public init(_ kind: Kind) throws {
        let unique = UUID().uuidString.prefix(8).lowercased()
        switch kind {
        case .path:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("warren-notify-\(unique)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
            directory = dir
            address = dir + "/notify"
        case .abstract:
            directory = nil
            address = "@warren-test-\(unique)"
        case .at(let given):
            directory = nil
            address = given
        }
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)  // a missing datagram fails the test, it does not hang it
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // Encoded here independently of SystemdNotifier, so each checks the other.
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(address.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace: a leading NUL, no trailing one
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { throw POSIXError(.ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in raw.copyBytes(from: bytes) }
        let pathLength = bytes.first == 0 ? bytes.count : bytes.count + 1
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathLength)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard rc == 0 else {
            let code = errno
            close(descriptor)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
    }

    deinit {
        close(descriptor)
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// The next datagram, waiting at most the receive timeout (5 s); `nil` on timeout.
    public func receive() -> String? { receive(flags: 0) }

    /// The next datagram if one is queued now; `nil` otherwise.
    public func receiveQueued() -> String? { receive(flags: Int32(MSG_DONTWAIT)) }

    private func receive(flags: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recvfrom(descriptor, $0.baseAddress, $0.count, flags, nil, nil) }
            if n >= 0 { return String(decoding: buffer[..<n], as: UTF8.self) }
            if errno == EINTR { continue }
            return nil
        }
    }
}
