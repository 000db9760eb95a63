import AMQP
import Foundation
import InMemoryTracing
import Testing
import Tracing
import Warren
import WarrenTestSupport

@testable import WarrenRuntime

/// `py.trace` of Tests/Interop/py_tasks.py: what Python's W3C extractor reads from the task.
private struct PyTrace: TaskDefinition {
    static let name = "py.trace"
    struct Result: Codable, Sendable {
        var traceparent: String?
        var traceID: String?
        var spanID: String?
        enum CodingKeys: String, CodingKey {
            case traceparent
            case traceID = "trace_id"
            case spanID = "span_id"
        }
    }
}

/// A trace that crosses the broker between Python's OpenTelemetry (opentelemetry-sdk and
/// opentelemetry-instrumentation-celery) and Swift (swift-distributed-tracing), with the
/// W3C in-memory tracer of WarrenTestSupport on the Swift side.
@Suite("Trace context between Python and Swift", .enabled(if: IntegrationBroker.available, IntegrationBroker.skipReason))
struct TraceInteropTests {
    @Test("Python -> Swift: the traceparent opentelemetry-instrumentation-celery writes is the parent of the task's span")
    func fromPython() async throws {
        guard CeleryWorker.python != nil || IntegrationBroker.required else { return }
        let queue = "otel.\(UUID().uuidString.prefix(8).lowercased())"
        defer {
            if let connection = try? IntegrationBroker.connect(), let channel = try? connection.openChannel() {
                _ = try? channel.deleteQueue(queue)
                try? channel.deleteExchange(queue)
                connection.close()
            }
        }
        // Celery declares the queue and publishes the task into it inside a span; nothing consumes it.
        let published = try await InteropPython.run(
            "otel_publish.py", ["--broker", IntegrationBroker.url, "--queue", queue, "--task", "py.multiply", "--args", "[6, 7]"])
        let traceID = try #require(published["trace_id"]?.stringValue)
        let producerSpanID = try #require(published["span_id"]?.stringValue)
        #expect(published["producer_trace_id"]?.stringValue == traceID)

        let broker = try await BrokerIO.open()
        try await broker.consume(queue)
        let delivery = try await broker.nextDelivery()
        await broker.close()
        let task = try EnvelopeDecoder().decode(delivery: delivery)
        #expect(task.name == "py.multiply")
        #expect(task.id == published["task_id"]?.stringValue)

        // The worker's span, as a child runs it, with a tracer that reads W3C traceparent.
        let tracer = W3CInMemoryTracer()
        let current = await TaskSpan.run(task, queue: queue, headers: delivery.properties.headers, tracer: tracer) {
            TaskSpan.Ending(value: ServiceContext.current?.inMemorySpanContext, outcome: .succeeded)
        }
        let span = try #require(tracer.finishedSpans.first { $0.operationName == "py.multiply" })
        #expect(span.traceID == traceID)
        #expect(span.parentSpanID == producerSpanID)
        #expect(span.spanID != producerSpanID)
        #expect(span.kind == .consumer)
        #expect(current?.spanID == span.spanID, "the task's span is current while the handler runs")
    }

    @Test("Swift -> Python: a send inside a span carries a traceparent that Python's OpenTelemetry extractor reads")
    func toPython() async throws {
        guard CeleryWorker.python != nil || IntegrationBroker.required else { return }
        let worker = try await CeleryWorker()
        let client = WarrenClient(configuration: try .init(url: IntegrationBroker.url))
        let tracer = W3CInMemoryTracer()
        let request = tracer.startSpan("GET /report")
        let handle = try await withTracer(tracer) {
            try await ServiceContext.withValue(request.context) {
                try await client.send(PyTrace(), options: TaskOptions(queue: worker.queue))
            }
        }
        request.end()
        let seen = try await handle.result(timeout: .seconds(30))
        #expect(seen.traceID == request.traceID)
        #expect(seen.spanID == request.spanID)
        #expect(seen.traceparent == "00-\(request.traceID)-\(request.spanID)-01")
        await client.close()
        #expect(await worker.stop() == 0)
    }
}
