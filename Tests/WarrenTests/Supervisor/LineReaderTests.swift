import Foundation
import Testing

@testable import Warren

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The supervisor's reader of a child's report pipe.
@Suite("Line reader")
struct LineReaderTests {
    @Test("lines split across writes, longer than its buffer, and a last one cut short")
    func linesAcrossReads() {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let long = String(repeating: "x", count: 100_000)  // longer than the 64 KiB buffer
        let writeEnd = fds[1]
        let writer = Thread {
            for chunk in ["F one\nF t", "wo\n", long + "\n", "\n", "cut"] {
                _ = chunk.utf8CString.withUnsafeBufferPointer { write(writeEnd, $0.baseAddress!, $0.count - 1) }
            }
            close(writeEnd)
        }
        writer.start()
        var lines: [String] = []
        LineReader.readLines(from: fds[0]) { lines.append(String(decoding: $0, as: UTF8.self)) }
        close(fds[0])
        #expect(lines == ["F one", "F two", long, ""])
    }

    @Test("the pace bounds wake-ups, not throughput: 4 MiB waiting is read at once, not one buffer per pace")
    func paceDoesNotCapThroughput() async throws {
        let line = Array("F succeeded 0.000010 0.000200 bench-00000000-0000-0000-0000-000000000000\tdemo.noop\n".utf8)
        let bytes = Array((0..<(4 << 20) / line.count).map { _ in line }.joined())
        let began = ContinuousClock.now
        let lines = await Self.read(bytes, pace: .milliseconds(100))
        let took = ContinuousClock.now - began
        #expect(lines.count == bytes.count / line.count)
        // One 16 KiB read per 100 ms pace took 25 s for this; reading on while reads fill the
        // buffer, about one 1 MiB pipe per pace.
        #expect(took < .seconds(8), "4 MiB took \(took)")  // ~1 s in a debug build
    }

    /// Writes `bytes` into a pipe from one thread while another reads it with `pace`.
    static func read(_ bytes: [UInt8], pace: Duration) async -> [String] {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return [] }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        _ = fcntl(writeEnd, 1031 /* F_SETPIPE_SZ */, Int32(1 << 20))  // as ChildProcess grows a child's pipe
        Thread.detachNewThread {
            bytes.withUnsafeBytes { writeAll($0, to: writeEnd) }
            close(writeEnd)
        }
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var lines: [String] = []
                LineReader.readLines(from: readEnd, pace: pace) { lines.append(String(decoding: $0, as: UTF8.self)) }
                close(readEnd)
                continuation.resume(returning: lines)
            }
        }
    }
}
