import Foundation

/// A Celery signature as it travels in a task's `embed` (a chain step, a `link` callback, a
/// `link_error` errback): `{"task", "args", "kwargs", "options", "subtask_type", "immutable"}`
/// (celery/canvas.py `Signature`). Anyone who can publish chose it: every field is checked.
package struct Signature: Sendable, Equatable {
    /// The task name.
    package var task: String
    package var args: [JSONValue]
    package var kwargs: JSONObject
    /// `apply_async` options, frozen by the client: `task_id`, `reply_to`, and perhaps `queue`,
    /// `exchange`, `routing_key`, `priority`, `countdown`, `eta`, `expires`, `time_limit`,
    /// `soft_time_limit`, `link`, `link_error`, `group_id`, `group_index`.
    package var options: JSONObject
    /// An immutable signature ignores its parent's result (`.si()`).
    package var immutable: Bool
    /// `chain`, `group`, `chord` or nil for a plain task signature.
    package var subtaskType: String?

    /// The most bytes of a name or id Warren takes from a signature (as for a message's own).
    static let maxNameBytes = 255

    /// Reads a signature; `nil` with the reason when it is not one Warren can send on.
    package static func parse(_ value: JSONValue) -> Result<Signature, CanvasError> {
        guard let object = value.objectValue else { return .failure(CanvasError("a signature is \(value.kindName), not an object")) }
        guard let task = object["task"]?.stringValue, !task.isEmpty, task.utf8.count <= maxNameBytes else {
            return .failure(CanvasError("a signature has no task name (or one over \(maxNameBytes) bytes)"))
        }
        let args: [JSONValue]
        switch object["args"] {
        case nil, .null?: args = []
        case .array(let a)?: args = a
        default: return .failure(CanvasError("the args of signature \(ErrorText.quoted(task)) are not an array"))
        }
        let kwargs: JSONObject
        switch object["kwargs"] {
        case nil, .null?: kwargs = [:]
        case .object(let k)?: kwargs = k
        default: return .failure(CanvasError("the kwargs of signature \(ErrorText.quoted(task)) are not an object"))
        }
        let options: JSONObject
        switch object["options"] {
        case nil, .null?: options = [:]
        case .object(let o)?: options = o
        default: return .failure(CanvasError("the options of signature \(ErrorText.quoted(task)) are not an object"))
        }
        let subtaskType = object["subtask_type"]?.stringValue
        return .success(
            Signature(
                task: task, args: args, kwargs: kwargs, options: options, immutable: object["immutable"]?.boolValue ?? false,
                subtaskType: subtaskType))
    }

    /// Reads a list of signatures (`callbacks`, `errbacks`, `chain`): null or absent is none.
    package static func parseList(_ value: JSONValue?, _ what: String) -> Result<[Signature], CanvasError> {
        switch value {
        case nil, .null?: return .success([])
        case .array(let items)?:
            guard items.count <= 1000 else { return .failure(CanvasError("\(what) holds \(items.count) signatures (at most 1000)")) }
            var signatures: [Signature] = []
            for item in items {
                switch parse(item) {
                case .success(let s): signatures.append(s)
                case .failure(let e): return .failure(CanvasError("\(what): \(e.message)"))
                }
            }
            return .success(signatures)
        case let other?:
            return .failure(CanvasError("\(what) is \(other.kindName), not a list of signatures"))
        }
    }
}

/// A workflow Warren cannot follow as written: the message is dead-lettered with this text.
package struct CanvasError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
