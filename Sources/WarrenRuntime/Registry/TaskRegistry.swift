import Synchronization
import WarrenCore

/// The handlers a worker binary knows, by task name.
///
/// A handler is stored type-erased: it decodes its own arguments from the message and encodes
/// its own result, so the worker loop deals only in ``TaskMessage`` and ``JSONValue``.
package final class TaskRegistry: Sendable {
    /// Runs one task: decode arguments, call the handler, encode the result.
    package typealias Handler = @Sendable (TaskMessage, TaskContext) async throws -> JSONValue

    private let handlers = Mutex<[String: Handler]>([:])

    /// An empty registry.
    package init() {}

    /// Registers `handler` under `name`. Registering a name twice is a programming error.
    package func register(_ name: String, _ handler: @escaping Handler) {
        handlers.withLock {
            precondition($0[name] == nil, "a task is already registered under the name \"\(name)\"")
            precondition(!name.isEmpty, "a task name cannot be empty")
            $0[name] = handler
        }
    }

    /// The handler for `name`, if registered.
    package func handler(for name: String) -> Handler? {
        handlers.withLock { $0[name] }
    }

    /// Every registered task name, sorted.
    package var names: [String] {
        handlers.withLock { $0.keys.sorted() }
    }
}
