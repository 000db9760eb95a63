import Foundation
import Testing
import Warren

/// Celery's canvas (chains, link, link_error) built by Celery 5.7's own client and run by the
/// real warren-demo worker (Tests/Interop/celery_client.py `canvas`).
@Suite("Canvas", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct CanvasTests {
    private func canvas(_ scenario: String, setup: TestSetup) async throws -> JSONValue {
        try await CeleryInteropTests.celery(["--exchange", setup.exchange, "--timeout", "30", "canvas", scenario])
    }

    @Test(
        "chains: 3 steps of demo.add give 18; an immutable step ignores its parent's result; a step retried twice goes on; a failing step ends the chain and its caller gets the failure"
    )
    func chains() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let chain = try await canvas("chain", setup: setup)
        #expect(chain["ok"] == true && chain["result"] == 18, "\(chain)")
        let immutable = try await canvas("immutable", setup: setup)
        #expect(immutable["result"] == 2, "\(immutable)")
        let retrying = try await canvas("retrying", setup: setup)
        #expect(retrying["result"] == 8, "\(retrying)")
        let failing = try await canvas("failing", setup: setup)
        #expect(failing["ok"] == false && failing["exc_type"] == "RuntimeError" && failing["message"] == "step two broke", "\(failing)")
        // The failing step's successor never ran: demo.add ran for steps 1 of each chain only.
        let addRuns = worker.lines(containing: "demo.add").filter { $0.contains("task succeeded") }.count
        #expect(addRuns == 8)  // chain 3, immutable 2, retrying 2, failing 1
        #expect(await worker.stop() == 0)
    }

    @Test("link runs the callback with the result; link_error runs the errback with the failed task's id")
    func links() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let link = try await canvas("link", setup: setup)
        #expect(link["ok"] == true && link["result"] == 15, "\(link)")
        let linkError = try await canvas("link_error", setup: setup)
        let failedID = try #require(linkError["failed_id"])
        #expect(linkError["result"] == ["args": [failedID], "kwargs": [:]], "\(linkError)")
        #expect(await worker.stop() == 0)
    }

    @Test("a chord is not half-run: dead-lettered as unsupported, and its caller gets NotImplementedError")
    func chordRefused() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let chord = try await canvas("chord", setup: setup)
        #expect(chord["ok"] == false && chord["exc_type"] == "NotImplementedError", "\(chord)")
        try await worker.waitForLog("its workflow cannot be followed", "unsupported", timeout: .seconds(10))
        let broker = try await BrokerIO.open()
        #expect(try await broker.depth(setup.deadLetterQueue) == 1)
        await broker.close()
        #expect(worker.lines(containing: "demo.add").filter { $0.contains("task succeeded") }.isEmpty)
        #expect(await worker.stop() == 0)
    }

    @Test("a step's child SIGKILLed right after it published the next step: the chain still completes; the duplicates are counted")
    func killedAfterPublishing() async throws {
        guard CeleryInteropTests.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("\(setup.prefix).crashed").path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let worker = try await DemoWorker(config: setup.path, environment: ["WARREN_TEST_CRASH_AFTER_FOLLOWUPS": marker])
        let chain = try await canvas("chain", setup: setup)
        #expect(chain["ok"] == true && chain["result"] == 18, "\(chain)")
        #expect(FileManager.default.fileExists(atPath: marker))
        try await worker.waitForLog("child died", timeout: .seconds(10))
        // Step 1 ran twice (redelivered), published step 2 twice under one id: steps 2 and 3 ran
        // twice each too. Nothing lost; each duplicate carries the same frozen task id.
        let runs = worker.lines(containing: "demo.add").filter { $0.contains("task succeeded") }
        print("chain with a child killed after publishing: \(runs.count) runs of 3 steps")
        #expect(runs.count == 6)
        #expect(await worker.stop() == 0)
    }

    @Test("a chain Swift -> Python -> Swift: demo.add on Warren, py.multiply on a Celery worker's queue, demo.add on Warren again")
    func crossLanguageChain() async throws {
        guard CeleryWorker.python != nil || IntegrationBroker.required else { return }
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let python = try await CeleryWorker()
        let client = WarrenClient(configuration: .init(try setup.configuration()))
        let steps = [
            TaskSignature("demo.add", args: [2, 3]),
            // Straight to the Python worker's queue, as Celery's `queue=` option does.
            TaskSignature("py.multiply", args: [10], options: ["queue": .string(python.queue)]),
            // Back through Warren's exchange: the Celery worker publishes the step as its options say.
            TaskSignature(
                "demo.add", args: [1], options: ["exchange": .string(setup.exchange), "routing_key": "demo.add", "declare": []]),
        ]
        do {
            #expect(try await client.chain(steps).result(timeout: .seconds(30)) == 51)  // (2 + 3) * 10 + 1
        } catch {
            Issue.record("\(error); the Celery worker's output ends:\n\(python.log.suffix(20).joined(separator: "\n"))")
        }
        await client.close()
        #expect(await python.stop() == 0)
        #expect(await worker.stop() == 0)
    }

    @Test("from Swift: WarrenClient.chain gives the last step's result; a typed step is immutable; link runs a callback the client awaits")
    func swiftChains() async throws {
        let setup = try TestSetup()
        defer { setup.tearDown() }
        let worker = try await DemoWorker(config: setup.path)
        let client = WarrenClient(configuration: .init(try setup.configuration()))
        let steps = [TaskSignature("demo.add", args: [2, 2]), TaskSignature("demo.add", args: [4]), TaskSignature("demo.add", args: [10])]
        #expect(try await client.chain(steps).result(timeout: .seconds(20)) == 18)
        let typed = [TaskSignature("demo.add", args: [2, 2]), try TaskSignature(CanvasAdd(a: 1, b: 1))]
        #expect(try await client.chain(typed).result(timeout: .seconds(20)) == 2)

        var callback = TaskSignature("demo.add", args: [10])
        callback.id = TaskMessage.newID()
        callback.replyTo = client.replyQueue
        let sent = try await client.send(CanvasAdd(a: 2, b: 3), options: .init(link: [callback]))
        #expect(try await sent.result(timeout: .seconds(20)) == 5)
        #expect(try await client.handle(forTask: callback.id!, name: "demo.add", as: Int.self).result(timeout: .seconds(20)) == 15)
        await client.close()
        #expect(await worker.stop() == 0)
    }
}

/// `demo.add` as a typed task, for the Swift-side canvas tests.
private struct CanvasAdd: TaskDefinition {
    static let name = "demo.add"
    static let argumentNames = ["a", "b"]
    typealias Result = Int
    var a: Int
    var b: Int
}
