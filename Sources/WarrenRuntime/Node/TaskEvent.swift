import Foundation
import WarrenCore

/// A Celery task event (celery/worker/strategy.py, celery/worker/request.py,
/// celery/app/trace.py), sent by the child that handles the task while task events are on.
struct TaskEvent: Sendable, Equatable {
    /// What happened, with the fields Celery sends for it.
    enum Kind: Sendable, Equatable {
        case received(
            name: String, args: String, kwargs: String, rootID: String?, parentID: String?, retries: Int, eta: Date?, expires: Date?)
        case started
        /// `result`: Python's repr of the value, at most 1,024 characters; `runtime` in seconds.
        case succeeded(result: String, runtime: Double)
        case failed(exception: String, traceback: String)
        case retried(exception: String, traceback: String)
        case rejected(requeue: Bool)
        case revoked(expired: Bool)

        var type: String {
            switch self {
            case .received: "task-received"
            case .started: "task-started"
            case .succeeded: "task-succeeded"
            case .failed: "task-failed"
            case .retried: "task-retried"
            case .rejected: "task-rejected"
            case .revoked: "task-revoked"
            }
        }
    }

    /// The task id.
    var uuid: String
    var kind: Kind

    /// `received` for `task`, with the `argsrepr`/`kwargsrepr` its sender wrote, else Warren's.
    static func received(_ task: TaskMessage) -> TaskEvent {
        let args = task.headers["argsrepr"]?.stringValue ?? PythonRepr.truncated(.array(task.args))
        let kwargs = task.headers["kwargsrepr"]?.stringValue ?? PythonRepr.truncated(.object(task.kwargs))
        return TaskEvent(
            uuid: task.id,
            kind: .received(
                name: task.name, args: String(args.prefix(PythonRepr.maxLength)), kwargs: String(kwargs.prefix(PythonRepr.maxLength)),
                rootID: task.rootID, parentID: task.parentID, retries: task.retries, eta: task.eta, expires: task.expires))
    }

    /// Python's repr of an exception: `RuntimeError('boom')`, its message cut to 1,024 characters.
    static func exceptionRepr(_ exception: CeleryException) -> String {
        "\(exception.type)(\(PythonRepr.truncated(.string(exception.message))))"
    }

    /// The event's routing key on `celeryev` when sent alone: its type with dots.
    var routingKey: String {
        switch kind {
        case .received: "task.received"
        case .started: "task.started"
        case .succeeded: "task.succeeded"
        case .failed: "task.failed"
        case .retried: "task.retried"
        case .rejected: "task.rejected"
        case .revoked: "task.revoked"
        }
    }

    /// The event's routing key on `celeryev` (the type with dots) and its JSON body.
    ///
    /// - Parameters:
    ///   - hostname: The node name.
    ///   - pid: The child's process id.
    ///   - utcoffset: Hours west of UTC, as Celery computes it.
    func encoded(hostname: String, pid: Int32, clock: UInt64, now: Date, utcoffset: Int) -> (routingKey: String, body: [UInt8]) {
        var fields: JSONObject = ["type": .string(kind.type), "uuid": .string(uuid)]
        func date(_ d: Date?) -> JSONValue { d.map { .string(CeleryTime.format($0)) } ?? .null }
        switch kind {
        case .received(let name, let args, let kwargs, let rootID, let parentID, let retries, let eta, let expires):
            fields["name"] = .string(name)
            fields["args"] = .string(args)
            fields["kwargs"] = .string(kwargs)
            fields["root_id"] = rootID.map(JSONValue.string) ?? .null
            fields["parent_id"] = parentID.map(JSONValue.string) ?? .null
            fields["retries"] = .int(Int64(retries))
            fields["eta"] = date(eta)
            fields["expires"] = date(expires)
        case .started: break
        case .succeeded(let result, let runtime):
            fields["result"] = .string(result)
            fields["runtime"] = .double(runtime)
        case .failed(let exception, let traceback), .retried(let exception, let traceback):
            fields["exception"] = .string(exception)
            fields["traceback"] = .string(String(traceback.prefix(8_192)))
        case .rejected(let requeue):
            fields["requeue"] = .bool(requeue)
        case .revoked(let expired):
            fields["terminated"] = false
            fields["signum"] = .null
            fields["expired"] = .bool(expired)
        }
        fields["hostname"] = .string(hostname)
        fields["utcoffset"] = .int(Int64(utcoffset))
        fields["pid"] = .int(Int64(pid))
        fields["clock"] = .int(Int64(clamping: clock))
        fields["timestamp"] = .double(now.timeIntervalSince1970)
        return (routingKey, JSONValue.object(fields).serialized())
    }
}
