import Foundation

/// Reads newline-terminated lines from a descriptor with plain blocking `read()` calls, on the
/// calling thread, until end of file.
///
/// Why not `FileHandle.readabilityHandler`: on Linux its dispatch source can still be polled by
/// libdispatch's event loop after the descriptor is closed, which crashed the supervisor when
/// many children exited at once.
enum LineReader {
    static func readLines(from descriptor: Int32, _ line: (Data) -> Void) {
        var pending = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            pending.append(contentsOf: buffer[0..<n])
            while let nl = pending.firstIndex(of: 0x0A) {
                line(Data(pending[pending.startIndex..<nl]))
                pending.removeSubrange(pending.startIndex...nl)
            }
        }
    }
}
