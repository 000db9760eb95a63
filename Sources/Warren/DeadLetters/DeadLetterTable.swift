import Foundation

/// The readable table of `dlq list`: one line per dead letter, oldest in the queue first.
///
/// Columns: AGE (`42s`, `12m`, `5h`, `3d`; `?` when unknown), TASK, REASON, ATTEMPTS, QUEUE
/// (the queue it failed in), ERROR (one line, cut to ``errorWidth`` characters) and ID (the task
/// id). Unknown values show as `-`.
enum DeadLetterTable {
    /// The widest an error is shown; `dlq list --json` has it whole.
    static let errorWidth = 48

    static let columns = ["AGE", "TASK", "REASON", "ATTEMPTS", "QUEUE", "ERROR", "ID"]

    /// The table's lines, header first.
    static func render(_ letters: [DeadLetter], now: Date = Date()) -> [String] {
        let rows = [columns] + letters.map { row(for: $0, now: now) }
        var widths = [Int](repeating: 0, count: columns.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }

    static func row(for letter: DeadLetter, now: Date) -> [String] {
        [
            letter.age(now: now).map(ageText) ?? "?",
            letter.task ?? "-",
            letter.reason,
            letter.attempts.map(String.init) ?? "-",
            letter.originalQueue ?? "-",
            letter.error.map(oneLine) ?? "-",
            letter.taskID ?? "-",
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

    /// Control characters as spaces, cut to ``errorWidth`` with `…`.
    static func oneLine(_ text: String) -> String {
        let flat = String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
        guard flat.count > errorWidth else { return flat }
        return String(flat.prefix(errorWidth - 1)) + "…"
    }
}
