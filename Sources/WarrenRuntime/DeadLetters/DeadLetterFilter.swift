import Foundation
import WarrenCore

/// Which dead letters a `dlq` verb acts on: every condition given must hold.
///
/// An empty filter matches everything; `dlq replay` and `dlq purge` refuse one unless told
/// `--all`, so that a forgotten option cannot empty the queue.
package struct DeadLetterFilter: Sendable, Hashable, CustomStringConvertible {
    /// The task name, or a topic pattern over task names (`report.*`, `image.#`); `nil` for any.
    package var task: TopicPattern?
    /// The reason (see ``DeadLetter/reason``); `nil` for any.
    package var reason: String?
    /// Only dead letters that arrived at least this long ago. A dead letter whose time is
    /// unknown never matches, so that `--older-than` never drops more than it can vouch for.
    package var olderThan: Duration?

    /// A filter with these conditions; none by default.
    package init(task: TopicPattern? = nil, reason: String? = nil, olderThan: Duration? = nil) {
        self.task = task
        self.reason = reason
        self.olderThan = olderThan
    }

    /// `true` when no condition is set (everything matches).
    package var isEmpty: Bool { task == nil && reason == nil && olderThan == nil }

    /// Whether `letter` meets every condition.
    /// - Parameter now: The time ages are measured at.
    package func matches(_ letter: DeadLetter, now: Date = Date()) -> Bool {
        if let task {
            guard let name = letter.task, task.matches(name) else { return false }
        }
        if let reason, letter.reason != reason { return false }
        if let olderThan {
            guard let age = letter.age(now: now), age >= olderThan else { return false }
        }
        return true
    }

    /// The conditions as the command line writes them, e.g. `--task demo.fail --reason failed`.
    package var description: String {
        var parts: [String] = []
        if let task { parts.append("--task \(task)") }
        if let reason { parts.append("--reason \(reason)") }
        if let olderThan { parts.append("--older-than \(olderThan.humanReadable)") }
        return parts.isEmpty ? "(no filter)" : parts.joined(separator: " ")
    }
}
