import Foundation

/// Reads newline-terminated lines from a descriptor with plain blocking `read()` calls, on the
/// calling thread, until end of file.
///
/// Why not `FileHandle.readabilityHandler`: on Linux its dispatch source can still be polled by
/// libdispatch's event loop after the descriptor is closed, which crashed the supervisor when
/// many children exited at once.
enum LineReader {
    /// Calls `line` with each line (without its newline), in order; a last line without a
    /// newline is dropped (the writer died in the middle of it).
    /// - Parameter pace: The shortest time between two reads. A busy writer's lines then pile up
    ///   in the pipe and are read in batches, so a child running thousands of tasks a second
    ///   wakes this thread (and takes a CPU from the broker and itself) at most 1 / pace times a
    ///   second; a line after a quiet spell is still read at once. A read that fills the buffer
    ///   is followed by another at once: the pace bounds wake-ups, never how much is read (one
    ///   16 KiB read per pace capped a busy child at ~5,000 tasks a second with a 50 ms pace,
    ///   ~12,500 with 20 ms, as the child then waited on a full pipe).
    /// - Parameter sleep: How to wait out the pace (tests count the waits).
    static func readLines(
        from descriptor: Int32, pace: Duration = .zero, sleep: (Duration) -> Void = { Thread.sleep(forTimeInterval: $0.seconds) },
        _ line: (ArraySlice<UInt8>) -> Void
    ) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var kept = 0  // bytes of an unfinished line at the start of `buffer`
        let clock = ContinuousClock()
        var lastRead = clock.now - pace
        var drained = true  // the last read left the pipe empty, as far as it can tell
        while true {
            let next = lastRead + pace
            if drained && next > clock.now { sleep(next - clock.now) }
            lastRead = clock.now
            if kept == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }  // a long line
            let requested = buffer.count - kept
            let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + kept, requested) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            drained = n < requested
            let end = kept + n
            var start = 0
            var scan = kept
            while let nl = buffer[scan..<end].firstIndex(of: 0x0A) {
                line(buffer[start..<nl])
                start = nl + 1
                scan = start
            }
            kept = end - start
            if kept > 0 && start > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    raw.baseAddress!.copyMemory(from: raw.baseAddress! + start, byteCount: kept)
                }
            }
        }
    }
}
