import AMQP
import InMemoryTracing
import Testing
import Tracing
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("The span of a task's run")
struct TaskSpanTests {
    struct Boom: Error, CustomStringConvertible {
        var description: String { "boom" }
    }

    /// Headers as a sender leaves them: the context of its span injected by `tracer`.
    static func sent(by tracer: InMemoryTracer, from span: InMemorySpan) -> AMQPTable {
        var headers: AMQPTable = ["task": "demo.add"]
        TraceHeaders.inject(span.context, into: &headers, using: tracer)
        return headers
    }

    @Test("the span continues the sender's trace: its parent is the span in the headers")
    func extractedParent() async throws {
        let tracer = InMemoryTracer()
        let sender = tracer.startSpan("send")
        sender.end()
        let task = TaskMessage(name: "demo.add", id: "t-1", retries: 2)

        let value = await TaskSpan.run(task, queue: "default", headers: Self.sent(by: tracer, from: sender), tracer: tracer) {
            // The handler runs with the task's span as the current context.
            let current = ServiceContext.current?.inMemorySpanContext
            return TaskSpan.Ending(value: current, outcome: .succeeded)
        }

        let span = try #require(tracer.finishedSpans.first { $0.operationName == "demo.add" })
        #expect(span.kind == .consumer)
        #expect(span.traceID == sender.traceID)
        #expect(span.parentSpanID == sender.spanID)
        #expect(value?.spanID == span.spanID)
        #expect(span.attributes["task.name"]?.toSpanAttribute() == .string("demo.add"))
        #expect(span.attributes["task.id"]?.toSpanAttribute() == .string("t-1"))
        #expect(span.attributes["task.attempt"]?.toSpanAttribute() == .int64(3))
        #expect(span.attributes["messaging.destination.name"]?.toSpanAttribute() == .string("default"))
        #expect(span.attributes["task.outcome"]?.toSpanAttribute() == .string("succeeded"))
        #expect(span.status == nil)
        #expect(span.errors.isEmpty)
    }

    @Test("no trace context in the headers: the span starts a trace")
    func rootSpan() async throws {
        let tracer = InMemoryTracer()
        await TaskSpan.run(TaskMessage(name: "demo.noop"), queue: "q", headers: nil, tracer: tracer) {
            TaskSpan.Ending(value: (), outcome: .succeeded)
        }
        let span = try #require(tracer.finishedSpans.first)
        #expect(span.parentSpanID == nil)
    }

    @Test("a failed task: error recorded, error status, outcome failed")
    func failed() async throws {
        let tracer = InMemoryTracer()
        await TaskSpan.run(TaskMessage(name: "demo.fail"), queue: "q", headers: nil, tracer: tracer) {
            TaskSpan.Ending(value: (), outcome: .failed, error: Boom())
        }
        let span = try #require(tracer.finishedSpans.first)
        #expect(span.attributes["task.outcome"]?.toSpanAttribute() == .string("failed"))
        #expect(span.status?.code == .error)
        #expect(span.errors.count == 1)
    }

    @Test("a task to be retried: the error is recorded, the status is not an error (the task is not over)")
    func retried() async throws {
        let tracer = InMemoryTracer()
        await TaskSpan.run(TaskMessage(name: "demo.flaky"), queue: "q", headers: nil, tracer: tracer) {
            TaskSpan.Ending(value: (), outcome: .retried, error: Boom())
        }
        let span = try #require(tracer.finishedSpans.first)
        #expect(span.attributes["task.outcome"]?.toSpanAttribute() == .string("retried"))
        #expect(span.status == nil)
        #expect(span.errors.count == 1)
    }

    @Test("without a tracer (NoOpTracer) the body just runs, its value returned")
    func noOp() async {
        let value = await TaskSpan.run(TaskMessage(name: "demo.add"), queue: "q", headers: ["traceparent": "x"], tracer: NoOpTracer()) {
            TaskSpan.Ending(value: 5, outcome: .succeeded)
        }
        #expect(value == 5)
    }

    @Test("by default the system's tracer is used (here scoped to this task, no bootstrap)")
    func defaultTracer() async throws {
        let tracer = InMemoryTracer()
        let sender = tracer.startSpan("send")
        sender.end()
        let headers = Self.sent(by: tracer, from: sender)
        await withTracer(tracer) {
            await TaskSpan.run(TaskMessage(name: "demo.add"), queue: "q", headers: headers) {
                TaskSpan.Ending(value: (), outcome: .succeeded)
            }
        }
        let span = try #require(tracer.finishedSpans.first { $0.operationName == "demo.add" })
        #expect(span.parentSpanID == sender.spanID)
    }
}
