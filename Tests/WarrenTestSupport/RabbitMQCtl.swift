import Foundation

/// `rabbitmqctl -q -n <node> arguments...` for the tests of every target. It blocks: call it
/// from a thread of its own, not from the cooperative pool.
public enum RabbitMQCtl {
    /// Runs it and returns its exit status and standard output (standard error is dropped).
    public static func run(node: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/rabbitmqctl")
        process.arguments = ["-q", "-n", node] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
