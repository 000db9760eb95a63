import AMQP
import Tracing
import WarrenCore

/// The span a task's run is traced in: a consumer span named after the task, a child of the trace
/// context its sender put in the message's headers (``TraceHeaders``).
enum TaskSpan {
    /// What a task's run came to, for its span.
    struct Ending<Value> {
        var value: Value
        var outcome: TaskOutcome
        /// What the handler threw, if it did.
        var error: (any Error)?
    }

    /// Runs `body` (the handler and the settling of its outcome) in the task's span, the current
    /// context while it runs, so that what the handler sends continues the trace.
    ///
    /// Without a tracer bootstrapped (`NoOpTracer`) `body` just runs: nothing is extracted, no
    /// attribute is built.
    static func run<Value>(
        _ task: TaskMessage, queue: String, headers: AMQPTable?, tracer: any Tracer = InstrumentationSystem.tracer,
        _ body: () async -> Ending<Value>
    ) async -> Value {
        if tracer is NoOpTracer { return await body().value }
        var context = ServiceContext.current ?? .topLevel
        if let headers { tracer.extract(headers, into: &context, using: AMQPHeaderExtractor()) }
        return await tracer.withSpan(task.name, context: context, ofKind: .consumer) { span in
            span.attributes["task.name"] = task.name
            span.attributes["task.id"] = task.id
            span.attributes["task.attempt"] = task.retries + 1
            span.attributes["messaging.system"] = "rabbitmq"
            span.attributes["messaging.destination.name"] = queue
            let ending = await body()
            span.attributes["task.outcome"] = ending.outcome.rawValue
            if let error = ending.error { span.recordError(error) }
            if ending.outcome == .failed {
                let exception = ending.error.map { CeleryException($0) }
                span.setStatus(SpanStatus(code: .error, message: exception.map { ErrorText.bounded("\($0.type): \($0.message)") }))
            }
            return ending.value
        }
    }
}
