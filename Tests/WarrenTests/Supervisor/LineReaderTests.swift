import Foundation
import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

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

    @Test("the pace bounds wake-ups, not throughput: a full pipe is read in one go, not one buffer per pace")
    func paceDoesNotCapThroughput() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        #expect(fcntl(writeEnd, 1031 /* F_SETPIPE_SZ */, Int32(1 << 20)) >= 1 << 20)  // as ChildProcess grows a child's pipe
        // A busy child's reports, 1 MiB of them, waiting when the reader wakes.
        let line = Array("F succeeded 0.000010 0.000200 bench-00000000-0000-0000-0000-000000000000\tdemo.noop\n".utf8)
        let bytes = Array(repeatElement(line, count: (1 << 20) / line.count).joined())
        bytes.withUnsafeBytes { writeAll($0, to: writeEnd) }
        close(writeEnd)
        var sleeps = 0
        var count = 0
        LineReader.readLines(from: readEnd, pace: .milliseconds(100), sleep: { _ in sleeps += 1 }) { _ in count += 1 }
        close(readEnd)
        #expect(count == bytes.count / line.count)
        // One 16 KiB read per pace slept 63 times here (6.3 s; a child could report ~12,500
        // tasks/s at a 20 ms pace); reads that fill the buffer go on without a pause.
        #expect(sleeps <= 1, "slept \(sleeps) times for 1 MiB")
    }
}
