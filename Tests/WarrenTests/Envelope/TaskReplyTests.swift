import AMQP
import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Results in Celery's rpc:// format")
struct TaskReplyTests {
    let done = Date(timeIntervalSince1970: 1_735_732_800.123456)

    func celeryTask() throws -> TaskMessage {
        try EnvelopeDecoder().decode(delivery: CeleryFixture.delivery())
    }

    @Test func successBodyIsExact() throws {
        let task = try celeryTask()
        let (routingKey, message) = try #require(task.replyMessage(.success(5, for: task, at: done)))
        #expect(routingKey == CeleryFixture.replyTo)
        let body = try JSONValue(parsing: message.body)
        #expect(body.objectValue?.keys == ["status", "result", "traceback", "children", "date_done", "task_id"])
        #expect(
            body == [
                "status": "SUCCESS", "result": 5, "traceback": .null, "children": [],
                "date_done": "2025-01-01T12:00:00.123456+00:00", "task_id": .string(CeleryFixture.taskID),
            ])
        let p = message.properties
        #expect(p.contentType == "application/json")
        #expect(p.contentEncoding == "utf-8")
        #expect(p.deliveryMode == .transient)
        #expect(p.correlationID == CeleryFixture.taskID)
        #expect(p.priority == 0)
        #expect(p.headers == [:])
        #expect(p.replyTo == nil && p.expiration == nil)
    }

    @Test func groupAndParentIDs() throws {
        let headers = CeleryFixture.headers().with("group", "g-1").with("parent_id", "p-1")
        let task = try EnvelopeDecoder().decode(delivery: CeleryFixture.delivery(properties: CeleryFixture.properties(headers: headers)))
        let body = TaskReply.success(.null, for: task, at: done).json
        #expect(body.objectValue?.keys == ["status", "result", "traceback", "children", "date_done", "group_id", "parent_id", "task_id"])
        #expect(body["group_id"] == "g-1" && body["parent_id"] == "p-1" && body["result"] == .null)
    }

    @Test func noReplyWhenIgnoredOrNoReplyTo() throws {
        var task = try celeryTask()
        task.ignoreResult = true
        #expect(task.replyMessage(.success(1, for: task)) == nil)
        task.ignoreResult = false
        task.replyTo = nil
        #expect(task.replyMessage(.success(1, for: task)) == nil)
    }

    @Test func correlationFallsBackToTheID() throws {
        var task = try celeryTask()
        task.correlationID = nil
        let (_, message) = try #require(task.replyMessage(.success(1, for: task)))
        #expect(message.properties.correlationID == task.id)
    }

    @Test func failureFromASwiftError() throws {
        struct DiskFull: Error, CustomStringConvertible {
            var description: String { "disk full" }
        }
        let task = try celeryTask()
        let reply = TaskReply.failure(DiskFull(), for: task, at: done)
        let body = try JSONValue(parsing: reply.encoded(correlationID: task.id).body)
        #expect(body.objectValue?.keys == ["status", "result", "traceback", "children", "date_done", "task_id"])
        #expect(body["status"] == "FAILURE")
        #expect(body["result"] == ["exc_type": "RuntimeError", "exc_message": ["disk full"], "exc_module": "builtins"])
        #expect(body["result"]?.objectValue?.keys == ["exc_type", "exc_message", "exc_module"])
        #expect(body["date_done"] == "2025-01-01T12:00:00.123456+00:00")
        let traceback = try #require(body["traceback"]?.stringValue)
        #expect(traceback.hasPrefix("Traceback (most recent call last):\n  File \"<warren>\", line 1, in demo.add\n"))
        #expect(traceback.contains("    Swift error "))
        #expect(traceback.contains("DiskFull"))
        #expect(traceback.hasSuffix("\nRuntimeError: disk full\n"))
    }

    @Test func failureWithAChosenPythonException() throws {
        struct InvalidInput: Error, CeleryExceptionConvertible {
            var celeryException: CeleryException { CeleryException(type: "ValueError", message: "b must be positive") }
        }
        let task = try celeryTask()
        let reply = TaskReply.failure(InvalidInput(), for: task, at: done)
        #expect(reply.result == ["exc_type": "ValueError", "exc_message": ["b must be positive"], "exc_module": "builtins"])
        #expect(
            reply.traceback
                == "Traceback (most recent call last):\n  File \"<warren>\", line 1, in demo.add\nValueError: b must be positive\n")
    }

    @Test func localizedErrorsUseTheirDescription() {
        struct Nope: LocalizedError {
            var errorDescription: String? { "nope, not today" }
        }
        #expect(CeleryException(Nope()).message == "nope, not today")
    }

    // MARK: Reading replies (the publisher's --wait)

    @Test func readsACeleryWorkersSuccess() throws {
        let body =
            #"{"status": "SUCCESS", "result": {"sum": 9223372036854775807}, "traceback": null, "children": [], "date_done": "2025-01-01T12:00:00.123456+00:00", "task_id": "t-1"}"#
        let reply = try TaskReply.decode(
            properties: AMQPBasicProperties(contentType: "application/json", contentEncoding: "utf-8", correlationID: "t-1"),
            body: Array(body.utf8))
        #expect(reply.taskID == "t-1")
        #expect(reply.state == .success && reply.state.isReady)
        #expect(reply.dateDone == done)
        #expect(try reply.value() == ["sum": .int(Int64.max)])
    }

    @Test func readsACeleryWorkersFailure() throws {
        let body = #"""
            {"status": "FAILURE", "result": {"exc_type": "ZeroDivisionError", "exc_message": ["division by zero"], "exc_module": "builtins"}, "traceback": "Traceback (most recent call last):\n  File \"/app/tasks.py\", line 5, in div\n    return a / b\nZeroDivisionError: division by zero\n", "children": [], "date_done": "2025-01-01T12:00:00+00:00", "group_id": "g", "task_id": "t-2", "name": "tasks.div", "queue": "celery"}
            """#
        let reply = try TaskReply.decode(properties: .init(contentType: "application/json"), body: Array(body.utf8))
        #expect(reply.groupID == "g")
        #expect(reply.extra == ["name": "tasks.div", "queue": "celery"])
        #expect(throws: TaskFailed.self) { try reply.value() }
        do {
            _ = try reply.value()
        } catch {
            #expect(error.type == "ZeroDivisionError")
            #expect(error.message == "division by zero")
            #expect(error.exception.module == "builtins")
            #expect(error.taskID == "t-2")
            #expect(error.description == "ZeroDivisionError: division by zero")
            #expect(error.traceback?.contains("line 5, in div") == true)
        }
    }

    @Test func inProgressStatesHaveNoValueYet() throws {
        for status in ["PENDING", "STARTED", "RETRY", "RECEIVED"] {
            let body = #"{"status": "\#(status)", "result": null, "traceback": null, "children": [], "date_done": null, "task_id": "t"}"#
            let reply = try TaskReply.decode(properties: .init(), body: Array(body.utf8))
            #expect(try reply.value() == nil)
            #expect(!reply.state.isReady)
            #expect(reply.dateDone == nil)
        }
    }

    @Test func revokedAndOddFailures() throws {
        let revoked = TaskReply(
            taskID: "t", state: .revoked,
            result: ["exc_type": "TaskRevokedError", "exc_message": "revoked", "exc_module": "celery.exceptions"])
        #expect(
            throws: TaskFailed(
                taskID: "t", state: .revoked,
                exception: CeleryException(type: "TaskRevokedError", module: "celery.exceptions", message: "revoked"))
        ) {
            try revoked.value()
        }
        let odd = TaskReply(taskID: "t", state: .failure, result: "just text")
        #expect(throws: TaskFailed(taskID: "t", exception: CeleryException(type: "Exception", module: nil, arguments: ["just text"]))) {
            try odd.value()
        }
        #expect(CeleryException(type: "KeyError", arguments: ["a", 1]).message == "('a', 1)")
    }

    @Test func roundTrip() throws {
        let task = try celeryTask()
        let sent = TaskReply.failure(CeleryException(type: "ValueError", message: "bad"), for: task, at: done)
        let (_, message) = try #require(task.replyMessage(sent))
        let received = try TaskReply.decode(properties: message.properties, body: message.body)
        #expect(received == sent)
        let success = TaskReply.success(["a": [1, 2.5, "x"]], for: task, at: done)
        #expect(try TaskReply.decode(properties: .init(), body: success.encoded(correlationID: "c").body) == success)
    }

    @Test(arguments: [
        ("[1]", "a reply must be a JSON object, got array of 1"),
        (#"{"result": 1, "task_id": "t"}"#, "a reply must have a 'status' string"),
        (#"{"status": "SUCCESS"}"#, "a reply must have a 'task_id' or a correlation_id"),
        ("{", "reply: invalid JSON: expected a string key at line 1, column 2"),
    ])
    func malformedReplies(body: String, message: String) {
        let error = envelopeError { () throws(EnvelopeError) in try TaskReply.decode(properties: .init(), body: Array(body.utf8)) }
        #expect(error?.code == .invalidReply)
        #expect(error?.message == message)
    }

    @Test func pickledRepliesAreRefused() {
        let error = envelopeError { () throws(EnvelopeError) in
            try TaskReply.decode(properties: .init(contentType: "application/x-python-serialize"), body: [0x80, 0x04])
        }
        #expect(error?.code == .unsupportedContent)
    }
}
