import Foundation
import Testing
import Warren

/// `py.multiply(a, b)` of Tests/Interop/py_tasks.py, as a Swift app declares it.
private struct PyMultiply: TaskDefinition {
    static let name = "py.multiply"
    static let argumentNames = ["a", "b"]
    typealias Result = Int
    var a: Int
    var b: Int
}

/// `py.fail(message)`: raises `py_tasks.PyTaskError(message)`.
private struct PyFail: TaskDefinition {
    static let name = "py.fail"
    var message: String
}

/// WarrenClient sending to a real Python Celery worker (Support/CeleryWorker.swift): what a
/// Swift app does when the worker that runs its task is written in Python.
@Suite("A Python Celery worker runs WarrenClient's tasks", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct CeleryWorkerTests {
    @Test("a typed task (py.multiply, argument names a and b) sent to the worker's queue: result() is a * b")
    func typedResult() async throws {
        guard CeleryWorker.python != nil || IntegrationBroker.required else { return }
        let worker = try await CeleryWorker()
        let client = WarrenClient(configuration: try .init(url: IntegrationBroker.url))
        do {
            let handle = try await client.send(PyMultiply(a: 6, b: 7), options: TaskOptions(queue: worker.queue))
            #expect(try await handle.result(timeout: .seconds(30)) == 42)

            // Many at once, on the client's one reply queue: each result reaches its own caller.
            let products = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for i in 1...20 {
                    group.addTask {
                        let handle = try await client.send(PyMultiply(a: i, b: i + 1), options: TaskOptions(queue: worker.queue))
                        return (i, try await handle.result(timeout: .seconds(30)))
                    }
                }
                return try await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
            }
            #expect(products.count == 20)
            #expect(products.allSatisfy { $0.value == $0.key * ($0.key + 1) })

            // Positional arguments, as a Python caller passes them: the same function binds them.
            let positional = try await client.call(
                TaskMessage(name: "py.multiply", args: [3, 5]), options: TaskOptions(queue: worker.queue))
            #expect(positional == 15)
        } catch {
            let tail = worker.log.suffix(20).joined(separator: "\n")
            Issue.record("\(error); the worker's output ends:\n\(tail)")
        }
        await client.close()
        #expect(await worker.stop() == 0, "a warm shutdown on SIGTERM, not a SIGKILL after the grace")
        #expect(await ProcessWatch.waitForExit(of: [worker.pid], within: .seconds(5)).isEmpty)
    }

    @Test("an exception in Python arrives as TaskFailed with the Python exception's type and message")
    func pythonFailure() async throws {
        guard CeleryWorker.python != nil || IntegrationBroker.required else { return }
        let worker = try await CeleryWorker()
        let client = WarrenClient(configuration: try .init(url: IntegrationBroker.url))
        let handle = try await client.send(PyFail(message: "no multiplying today"), options: TaskOptions(queue: worker.queue))
        do {
            _ = try await handle.result(timeout: .seconds(30))
            Issue.record("py.fail returned instead of failing")
        } catch let failed as TaskFailed {
            #expect(failed.type == "PyTaskError")
            #expect(failed.exception.module == "py_tasks")
            #expect(failed.message == "no multiplying today")
            #expect(failed.taskID == handle.id)
            #expect(failed.state == .failure)
        }
        await client.close()
        #expect(await worker.stop() == 0, "a warm shutdown on SIGTERM, not a SIGKILL after the grace")
        #expect(await ProcessWatch.waitForExit(of: [worker.pid], within: .seconds(5)).isEmpty)
    }
}
