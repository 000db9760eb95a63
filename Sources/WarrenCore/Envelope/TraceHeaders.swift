import AMQP
import Instrumentation

/// Trace context in a task message's AMQP headers.
///
/// Senders inject the current `ServiceContext` with the bootstrapped instrument, children extract
/// it before a handler runs. The header names are the instrument's: a W3C propagator (swift-otel's,
/// OpenTelemetry Python's default) writes `traceparent` and `tracestate` as top-level message
/// headers, which is where opentelemetry-instrumentation-celery injects them before a publish and
/// reads them back in the worker (`_trace_before_publish`, `_trace_prerun`): a Python client's
/// trace continues in a Swift handler, and the other way round.
package enum TraceHeaders {
    /// The W3C Trace Context header that names the parent span.
    package static let traceparent = "traceparent"
    /// The W3C Trace Context header with vendor-specific state.
    package static let tracestate = "tracestate"

    /// Injects `context` into `headers` with `instrument`, unless the headers already carry a
    /// `traceparent`: a caller that set its own trace context keeps it whole (no `tracestate`
    /// of another trace is added to it). Nothing happens without a current context.
    package static func inject(
        _ context: ServiceContext? = ServiceContext.current, into headers: inout AMQPTable,
        using instrument: any Instrument = InstrumentationSystem.instrument
    ) {
        guard let context, headers[traceparent] == nil else { return }
        instrument.inject(context, into: &headers, using: AMQPHeaderInjector())
    }

    /// The context `instrument` finds in `headers`, on top of `base`.
    package static func extract(
        from headers: AMQPTable, into base: ServiceContext = .topLevel,
        using instrument: any Instrument = InstrumentationSystem.instrument
    ) -> ServiceContext {
        var context = base
        instrument.extract(headers, into: &context, using: AMQPHeaderExtractor())
        return context
    }
}

/// Writes trace headers into an AMQP table as strings (long strings on the wire, as Python's
/// py-amqp sends `str` headers).
package struct AMQPHeaderInjector: Injector {
    package init() {}

    package func inject(_ value: String, forKey key: String, into headers: inout AMQPTable) {
        headers[key] = .string(value)
    }
}

/// Reads trace headers from an AMQP table: strings, or bytes that are valid UTF-8.
package struct AMQPHeaderExtractor: Extractor {
    package init() {}

    package func extract(key: String, from headers: AMQPTable) -> String? {
        headers[key]?.stringValue
    }
}
