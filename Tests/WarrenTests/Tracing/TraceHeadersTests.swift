import AMQP
import InMemoryTracing
import Testing
import Tracing
@testable import WarrenClient
@testable import WarrenCore
import WarrenTestSupport

@Suite("Trace context in task headers")
struct TraceHeadersTests {
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let spanID = "00f067aa0ba902b7"

    static var context: ServiceContext {
        var context = ServiceContext.topLevel
        context[W3CTestPropagator.Key.self] = .init(traceID: traceID, spanID: spanID, state: "vendor=1")
        return context
    }

    @Test("the injector writes traceparent and tracestate as string headers; the extractor reads back the same trace")
    func roundTrip() throws {
        var headers: AMQPTable = ["task": "demo.add", "id": "1"]
        TraceHeaders.inject(Self.context, into: &headers, using: W3CTestPropagator())
        #expect(headers["traceparent"] == .string("00-\(Self.traceID)-\(Self.spanID)-01"))
        #expect(headers["tracestate"] == .string("vendor=1"))
        #expect(headers["task"] == .string("demo.add"))

        let extracted = TraceHeaders.extract(from: headers, using: W3CTestPropagator())
        let span = try #require(extracted[W3CTestPropagator.Key.self])
        #expect(span.traceID == Self.traceID)
        #expect(span.spanID == Self.spanID)
        #expect(span.state == "vendor=1")
    }

    @Test("a traceparent that arrives as bytes (a long string some clients decode as bytes) is read too")
    func bytesHeader() {
        let headers: AMQPTable = ["traceparent": .bytes(Array("00-\(Self.traceID)-\(Self.spanID)-01".utf8))]
        #expect(TraceHeaders.extract(from: headers, using: W3CTestPropagator())[W3CTestPropagator.Key.self]?.traceID == Self.traceID)
    }

    @Test("a traceparent the caller set in TaskOptions.headers is sent as it is, without another trace's tracestate")
    func callerTraceparentKept() {
        let own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        let message = TaskOptions(headers: ["traceparent": .string(own)]).applied(to: TaskMessage(name: "demo.add"))
        var headers = message.headers
        TraceHeaders.inject(Self.context, into: &headers, using: W3CTestPropagator())
        #expect(headers["traceparent"] == .string(own))
        #expect(headers["tracestate"] == nil)
    }

    @Test("no current context: nothing is injected")
    func noContext() {
        var headers: AMQPTable = [:]
        TraceHeaders.inject(nil, into: &headers, using: W3CTestPropagator())
        #expect(headers.isEmpty)
    }

    @Test("by default the current context and the system's instrument are used (scoped to this task, no bootstrap)")
    func defaults() throws {
        let tracer = InMemoryTracer()
        let span = tracer.startSpan("send")
        defer { span.end() }
        var headers: AMQPTable = [:]
        withTracer(tracer) {
            ServiceContext.withValue(span.context) { TraceHeaders.inject(into: &headers) }
        }
        #expect(headers[InMemoryTracer.traceIDKey] == .string(span.traceID))
        #expect(headers[InMemoryTracer.spanIDKey] == .string(span.spanID))
    }
}
