import Foundation
import Warren

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The demo tasks (README, "The demo worker"), used by the README, the tests and the benchmarks.
enum DemoTasks {
    /// A typed task: the same definition serves a Swift app's `WarrenClient.send(Add(a:b:))`
    /// and Celery's `add.delay(2, 3)` (positional, bound by `argumentNames`).
    struct Add: TaskDefinition {
        static let name = "demo.add"
        static let argumentNames = ["a", "b"]
        typealias Result = Int
        var a: Int
        var b: Int
    }

    struct Sleep: Codable, Sendable, PositionalArguments {
        static let argumentNames = ["seconds"]
        var seconds: Double
    }

    struct Fail: Codable, Sendable, PositionalArguments {
        static let argumentNames = ["message"]
        var message: String?
    }

    struct Flaky: Codable, Sendable, PositionalArguments {
        static let argumentNames = ["fail_times", "retry_in"]
        var fail_times: Int
        /// When set, each failure asks to be retried after this many seconds
        /// (`TaskError.retry(after:)`) instead of after the retry policy's backoff.
        var retry_in: Double?
    }

    struct Alloc: Codable, Sendable, PositionalArguments {
        static let argumentNames = ["mb", "seconds"]
        var mb: Int
        var seconds: Double?
    }

    /// A retryable failure of `demo.flaky`.
    struct FlakyError: Error, CustomStringConvertible {
        var attempt: Int
        var description: String { "demo.flaky failed on attempt \(attempt), as asked" }
    }

    /// `seconds` from a client as a duration: a bad value fails the task (a trap would kill
    /// the child, and the task would end as poison instead of `failed`).
    static func seconds(_ seconds: Double) throws -> Duration {
        guard seconds.isFinite, (0...86_400).contains(seconds) else {
            throw TaskError.fail("seconds must be from 0 to 86400, got \(seconds)")
        }
        return .milliseconds(Int64(seconds * 1000))
    }

    static func register(on worker: Worker) {
        worker.register("demo.noop") { (_: TaskContext) -> JSONValue in .null }

        worker.register(Add.self) { job, _ in job.a + job.b }

        worker.register("demo.echo") { (kwargs: JSONObject, _: TaskContext) in kwargs }

        // Its args and kwargs exactly as received: for canvas tests (what a chain step or an
        // errback was given) and for debugging a client.
        worker.register("demo.args") { (ctx: TaskContext) -> JSONValue in
            ["args": .array(ctx.message.args), "kwargs": .object(ctx.message.kwargs)]
        }

        worker.register("demo.sleep") { (job: Sleep, _: TaskContext) in
            try await Task.sleep(for: try seconds(job.seconds))  // cancellable: honours the time limit
            return job.seconds
        }

        worker.register("demo.fail") { (job: Fail, _: TaskContext) -> JSONValue in
            throw TaskError.fail(job.message ?? "demo.fail failed, as asked")
        }

        worker.register("demo.flaky") { (job: Flaky, ctx: TaskContext) in
            if ctx.attempt <= job.fail_times {
                if let seconds = job.retry_in {
                    guard seconds.isFinite, (0...86_400).contains(seconds) else {
                        throw TaskError.fail("retry_in must be from 0 to 86400 seconds, got \(seconds)")
                    }
                    throw TaskError.retry(after: .milliseconds(Int64(seconds * 1000)), FlakyError(attempt: ctx.attempt).description)
                }
                throw FlakyError(attempt: ctx.attempt)
            }
            return ctx.attempt
        }

        worker.register("demo.alloc") { (job: Alloc, _: TaskContext) in
            guard (0...65_536).contains(job.mb) else { throw TaskError.fail("mb must be from 0 to 65536, got \(job.mb)") }
            let bytes = job.mb << 20
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 4096)
            defer { buffer.deallocate() }
            // Touch every page so the memory is really resident.
            for offset in stride(from: 0, to: bytes, by: 4096) { buffer[offset] = 1 }
            if let seconds = job.seconds { try await Task.sleep(for: try Self.seconds(seconds)) }
            return job.mb
        }

        worker.register("demo.crash") { (_: TaskContext) -> JSONValue in
            // A segfault, as a buggy native library would cause.
            signal(SIGSEGV, SIG_DFL)
            raise(SIGSEGV)
            return .null
        }
    }
}
