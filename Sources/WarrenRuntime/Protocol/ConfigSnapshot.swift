import CWarrenSystem
import Foundation
import WarrenCore

/// The config as the supervisor loaded it, kept for its children in a sealed memory file.
///
/// Children used to read the config file themselves. A child the supervisor restarts (after a
/// crash, a recycle or a time-limit kill) then ran on whatever the file said *now*: an edit not
/// yet reloaded (or a half-written file) reached one child and not the others. The supervisor
/// now hands every child the very text it validated, as descriptor 4 (``childDescriptor``), and a
/// reload makes a new snapshot; the file on disk is read by the supervisor alone.
package final class ConfigSnapshot: Sendable {
    /// The configuration, parsed from ``text``.
    package let configuration: WarrenConfiguration
    /// Where the text came from, for messages (problems name it).
    let path: String
    /// The sealed memory file holding the text, inherited by children as ``childDescriptor``.
    let descriptor: Int32

    /// The descriptor number a child finds the text at.
    static let childDescriptor: Int32 = 4

    /// Reads and validates the file at `path`, and seals its text in a memory file.
    /// - Throws: ``ConfigurationError`` as ``ConfigLoader/load(path:environment:)`` does, or
    ///   `unreadable` when the memory file cannot be made.
    package init(path: String, environment: [String: String]) throws(ConfigurationError) {
        let text = try ConfigLoader.readFile(path)
        configuration = try ConfigLoader.load(yaml: text, source: path, environment: environment)
        self.path = path
        let fd = text.utf8CString.withUnsafeBufferPointer { cws_sealed_memfd("warren-config", $0.baseAddress, $0.count - 1) }
        guard fd >= 0 else {
            throw ConfigurationError(
                .unreadable,
                problems: [
                    .init(
                        source: path, keyPath: "", message: "cannot keep the config for the children: \(String(cString: strerror(errno)))")
                ])
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// The text a supervisor handed this child at `descriptor`, or `nil` when there is none.
    /// Read with `pread`: the children share one file offset.
    package static func text(at descriptor: Int32) -> String? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count <= ConfigLoader.maxFileSize {
            let n = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(bytes.count)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[..<n])
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
