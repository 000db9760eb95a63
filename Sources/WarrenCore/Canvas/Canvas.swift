import Foundation

/// What a task's workflow asks of the worker that runs it (Celery's canvas, protocol v2): the
/// decisions, apart from any I/O. See celery/app/trace.py (success: the next chain step, then
/// the callbacks) and celery/backends/base.py (failure: errbacks with the task id, and the rest
/// of the chain marked failed so the caller's `AsyncResult` raises).
package enum Canvas {
    /// The most follow-ups one task may ask for (chain step, callbacks, errbacks).
    static let maxFollowUps = 1000

    /// Why Warren cannot run `task`'s workflow, or nil: a chord (counting a chord's parts needs a
    /// result store, and Celery cannot run chords over `rpc://` either), or an embed that is not
    /// Celery's shape. Checked before the handler runs, so nothing half-runs.
    package static func problem(with task: TaskMessage) -> (reason: DeadLetterReason, message: String)? {
        if !task.chord.isNull {
            return (
                .unsupported,
                "the task is part of a chord; Warren does not run chords (they need a result store that counts their parts, "
                    + "which rpc:// cannot be): use a chain, or a Celery worker with a result backend"
            )
        }
        for (list, what) in [
            (task.chain, "the chain"), (task.callbacks, "the callbacks (link)"), (task.errbacks, "the errbacks (link_error)"),
        ] {
            if case .failure(let error) = TaskSignature.parseList(list, what) { return (.malformed, "bad workflow: \(error.message)") }
        }
        return nil
    }

    /// What to publish once `task` succeeded with `result`: the next step of its chain (with the
    /// rest of the chain), then each callback; the result goes first in their args.
    package static func afterSuccess(of task: TaskMessage, result: JSONValue, now: Date = Date()) -> [FollowUp] {
        var followUps: [FollowUp] = []
        if case .success(var chain) = TaskSignature.parseList(task.chain, "chain"), let next = chain.popLast() {
            followUps.append(FollowUp(.chainStep, signature: next, leading: [result], parent: task, chain: chain, now: now))
        }
        if case .success(let callbacks) = TaskSignature.parseList(task.callbacks, "callbacks") {
            for callback in callbacks.prefix(maxFollowUps) {
                followUps.append(FollowUp(.callback, signature: callback, leading: [result], parent: task, chain: [], now: now))
            }
        }
        return followUps
    }

    /// What to do once `task` failed for good: each errback, with the task's id first in its
    /// args; and the tasks of the rest of its chain, which will never run, so that their callers
    /// get this failure (their id and reply queue, as frozen in the chain).
    package static func afterFailure(of task: TaskMessage, now: Date = Date()) -> (errbacks: [FollowUp], abandoned: [TaskMessage]) {
        var errbacks: [FollowUp] = []
        if case .success(let signatures) = TaskSignature.parseList(task.errbacks, "errbacks") {
            for errback in signatures.prefix(maxFollowUps) {
                errbacks.append(FollowUp(.errback, signature: errback, leading: [.string(task.id)], parent: task, chain: [], now: now))
            }
        }
        var abandoned: [TaskMessage] = []
        if case .success(let chain) = TaskSignature.parseList(task.chain, "chain") {
            for step in chain.prefix(maxFollowUps) {
                let step = FollowUp(.chainStep, signature: step, leading: [], parent: task, chain: [], now: now).message
                if step.wantsReply { abandoned.append(step) }
            }
        }
        return (errbacks, abandoned)
    }
}
