import Foundation
import Testing
import Warren

/// The Python scripts of Tests/Interop, run with the venv's python (`WARREN_TEST_PYTHON`).
enum InteropPython {
    /// Runs `script` (a file in Tests/Interop) with `arguments`; returns the JSON line it printed.
    /// - Throws: when `WARREN_TEST_PYTHON` is not set, the script exits non-zero (with its
    ///   stderr), or its output is not JSON.
    static func run(_ script: String, _ arguments: [String]) async throws -> JSONValue {
        let python = try #require(CeleryWorker.python, "WARREN_TEST_PYTHON is not set: run scripts/test (it creates the Celery venv)")
        let path = CeleryWorker.interopDirectory.appendingPathComponent(script).path
        let output: (Int32, String, String) = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {  // blocking waits stay off the cooperative pool
                continuation.resume(
                    with: Result {
                        let p = Process()
                        p.executableURL = URL(fileURLWithPath: python)
                        p.arguments = [path] + arguments
                        let out = Pipe(), err = Pipe()
                        p.standardOutput = out
                        p.standardError = err
                        p.standardInput = FileHandle.nullDevice
                        try p.run()
                        let o = out.fileHandleForReading.readDataToEndOfFile()
                        let e = err.fileHandleForReading.readDataToEndOfFile()
                        p.waitUntilExit()
                        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
                    })
            }
        }
        try #require(output.0 == 0, "\(script) exited \(output.0): \(output.2)")
        return try JSONValue(parsing: output.1.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
