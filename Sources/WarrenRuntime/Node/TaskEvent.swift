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
        // Written straight to bytes: three events a task, and a JSONObject's key index per event
        // cost a child a fifth of its throughput.
        var out = EventJSON()
        out.string("type", kind.type)
        out.string("uuid", uuid)
        switch kind {
        case .received(let name, let args, let kwargs, let rootID, let parentID, let retries, let eta, let expires):
            out.string("name", name)
            out.string("args", args)
            out.string("kwargs", kwargs)
            out.string("root_id", rootID)
            out.string("parent_id", parentID)
            out.int("retries", Int64(retries))
            out.string("eta", eta.map { CeleryTime.format($0) })
            out.string("expires", expires.map { CeleryTime.format($0) })
        case .started: break
        case .succeeded(let result, let runtime):
            out.string("result", result)
            out.double("runtime", runtime)
        case .failed(let exception, let traceback), .retried(let exception, let traceback):
            out.string("exception", exception)
            out.string("traceback", String(traceback.prefix(8_192)))
        case .rejected(let requeue):
            out.raw("requeue", requeue ? "true" : "false")
        case .revoked(let expired):
            out.raw("terminated", "false")
            out.raw("signum", "null")
            out.raw("expired", expired ? "true" : "false")
        }
        out.string("hostname", hostname)
        out.int("utcoffset", Int64(utcoffset))
        out.int("pid", Int64(pid))
        out.int("clock", Int64(clamping: clock))
        out.double("timestamp", now.timeIntervalSince1970)
        return (routingKey, out.finish())
    }
}

/// A flat JSON object written member by member, with ``JSONValue``'s string escaping and number
/// format (keys are the event's own, plain ASCII).
private struct EventJSON {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]

    init() { bytes.reserveCapacity(320) }

    private mutating func key(_ key: StaticString) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: #"":"#.utf8)
    }

    mutating func string(_ name: StaticString, _ value: String?) {
        key(name)
        if let value { JSONValue.writeString(value, to: &bytes) } else { bytes.append(contentsOf: "null".utf8) }
    }

    mutating func int(_ name: StaticString, _ value: Int64) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func double(_ name: StaticString, _ value: Double) {
        key(name)
        bytes.append(contentsOf: JSONValue.format(value).utf8)
    }

    mutating func raw(_ name: StaticString, _ literal: StaticString) {
        key(name)
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}
