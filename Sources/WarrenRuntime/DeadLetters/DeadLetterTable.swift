import Foundation
import WarrenCore

/// The readable table of `dlq list`: one line per dead letter, oldest in the queue first.
///
/// Columns: AGE (`42s`, `12m`, `5h`, `3d`; `?` when unknown), TASK, REASON, ATTEMPTS, QUEUE
/// (the queue it failed in), ERROR (one line, cut to ``errorWidth`` characters) and ID (the task
/// id). Unknown values show as `-`. Every value from the message is escaped as
/// ``ErrorText/cell(_:width:)`` does (`\n`, `\u001b`), so a dead letter is one row whatever it
/// holds, and the columns are as wide as what the terminal shows.
package enum DeadLetterTable {
    /// The widest an error is shown; `dlq list --json` has it whole.
    static let errorWidth = 48

    /// The widest a task name, id, reason or queue is shown: 255, the most AMQP allows in a name.
    static let nameWidth = 255

    static let columns = ["AGE", "TASK", "REASON", "ATTEMPTS", "QUEUE", "ERROR", "ID"]

    /// The table's lines, header first.
    package static func render(_ letters: [DeadLetter], now: Date = Date()) -> [String] {
        let rows = [columns] + letters.map { row(for: $0, now: now) }
        var widths = [Int](repeating: 0, count: columns.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }
    }

    static func row(for letter: DeadLetter, now: Date) -> [String] {
        [
            letter.age(now: now).map(ageText) ?? "?",
            letter.task.map(name) ?? "-",
            name(letter.reason),
            letter.attempts.map(String.init) ?? "-",
            letter.originalQueue.map(name) ?? "-",
            letter.error.map(oneLine) ?? "-",
            letter.taskID.map(name) ?? "-",
        ]
    }

    /// An age in its largest whole unit: `42s`, `12m`, `5h`, `3d` (negative, from clock skew, is `0s`).
    static func ageText(_ age: Duration) -> String {
        let seconds = max(0, Int(age.components.seconds))
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3_600: return "\(seconds / 60)m"
        case ..<86_400: return "\(seconds / 3_600)h"
        default: return "\(seconds / 86_400)d"
        }
    }

    /// An error on one line, escaped, cut to ``errorWidth`` with `…`.
    static func oneLine(_ text: String) -> String { ErrorText.cell(text, width: errorWidth) }

    /// A name from the message, escaped, cut to ``nameWidth`` with `…`.
    package static func name(_ text: String) -> String { ErrorText.cell(text, width: nameWidth) }
}
