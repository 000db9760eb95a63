import Foundation
import Testing
import Warren

/// A real Python Celery client (Tests/Interop/celery_client.py, in the venv scripts/python-env
/// makes) calling the real warren-demo worker.
@Suite("Celery interop", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct CeleryInteropTests {
    /// The venv's python, or nil (then the suite fails if the broker is required, else skips).
    static var python: String? { ProcessInfo.processInfo.environment["WARREN_TEST_PYTHON"] }

    /// Runs Tests/Interop/celery_client.py against the test broker; returns its one JSON line.
    static func celery(_ arguments: [String]) async throws -> JSONValue {
        try await InteropPython.run("celery_client.py", ["--broker", IntegrationBroker.url] + arguments)
    }

    @Test("Celery send_task('demo.add', args=[2, 3]) to the Warren exchange gets 5 from .get()")
    func celeryGetsResult() async throws {
        guard Self.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let reply = try await Self.celery(["--exchange", setup.exchange, "call", "demo.add", "--args", "[2, 3]"])
        #expect(reply["ok"] == true)
        #expect(reply["result"] == 5)
        let byKeyword = try await Self.celery(["--exchange", setup.exchange, "call", "demo.add", "--kwargs", #"{"a": 2, "b": 3}"#])
        #expect(byKeyword["result"] == 5)
        #expect(await worker.stop() == 0)
    }

    @Test("a failing task raises in Python with the worker's error type and message")
    func celeryRaises() async throws {
        guard Self.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let reply = try await Self.celery(["--exchange", setup.exchange, "call", "demo.fail", "--kwargs", #"{"message": "boom"}"#])
        #expect(reply["ok"] == false)
        #expect(reply["exc_type"] == "RuntimeError")
        #expect(reply["message"] == "boom")
        #expect(await worker.stop() == 0)
    }

    @Test("Celery publishing straight to a queue (default exchange, routing key = queue name) works too")
    func celeryStraightToQueue() async throws {
        guard Self.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let reply = try await Self.celery([
            "--exchange", setup.exchange, "queue-call", setup.queue("latency"), "demo.add", "--args", "[1, 1]",
        ])
        #expect(reply["result"] == 2)
        #expect(await worker.stop() == 0)
    }
}
