import InMemoryTracing
import Tracing

/// A W3C Trace Context propagator, as small as a test needs: swift-distributed-tracing has none
/// (swift-otel's is what an application bootstraps), and InMemoryTracer uses keys of its own.
public struct W3CTestPropagator: Instrument {
    public struct SpanContext: Sendable, Equatable {
        public var traceID: String  // 32 hex digits
        public var spanID: String  // 16 hex digits
        public var state: String?

        public init(traceID: String, spanID: String, state: String? = nil) {
            self.traceID = traceID
            self.spanID = spanID
            self.state = state
        }
    }

    public enum Key: ServiceContextKey { public typealias Value = SpanContext }

    public init() {}

    public func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let span = context[Key.self] else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
        if let state = span.state { injector.inject(state, forKey: "tracestate", into: &carrier) }
    }

    public func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        guard let parent = extractor.extract(key: "traceparent", from: carrier),
            let (traceID, spanID) = Self.parse(traceparent: parent)
        else { return }
        context[Key.self] = SpanContext(traceID: traceID, spanID: spanID, state: extractor.extract(key: "tracestate", from: carrier))
    }

    /// The trace and parent span ids of a `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`), or nil.
    public static func parse(traceparent: String) -> (traceID: String, spanID: String)? {
        let fields = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count == 4, fields[1].count == 32, fields[2].count == 16,
            (fields[1] + fields[2]).allSatisfy(\.isHexDigit)
        else { return nil }
        return (String(fields[1]).lowercased(), String(fields[2]).lowercased())
    }
}

/// An `InMemoryTracer` that speaks W3C Trace Context: its ids are W3C's (32 and 16 lowercase hex
/// digits) and it injects and extracts `traceparent` (as OpenTelemetry's SDKs and
/// opentelemetry-instrumentation-celery do), so a test can record the spans of a trace that
/// crosses into or out of another language's tracer.
public struct W3CInMemoryTracer: Tracer {
    public let recorder: InMemoryTracer

    public init() {
        recorder = InMemoryTracer(
            idGenerator: .init(nextTraceID: { Self.hex(bytes: 16) }, nextSpanID: { Self.hex(bytes: 8) }))
    }

    /// Spans ended so far.
    public var finishedSpans: [FinishedInMemorySpan] { recorder.finishedSpans }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind, at instant: @autoclosure () -> Instant,
        function: String, file fileID: String, line: UInt
    ) -> InMemorySpan {
        recorder.startSpan(operationName, context: context(), ofKind: kind, at: instant(), function: function, file: fileID, line: line)
    }

    public func forceFlush() { recorder.forceFlush() }

    public func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let span = context.inMemorySpanContext else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
    }

    public func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        guard let parent = extractor.extract(key: "traceparent", from: carrier),
            let (traceID, spanID) = W3CTestPropagator.parse(traceparent: parent)
        else { return }
        context.inMemorySpanContext = InMemorySpanContext(traceID: traceID, spanID: spanID, parentSpanID: nil)
    }

    /// `bytes` random bytes in lowercase hex, never all zeros (an invalid id in W3C).
    static func hex(bytes: Int) -> String {
        while true {
            let digits = (0..<bytes).map { _ in UInt8.random(in: 0...255) }
            guard digits.contains(where: { $0 != 0 }) else { continue }
            return digits.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        }
    }
}
