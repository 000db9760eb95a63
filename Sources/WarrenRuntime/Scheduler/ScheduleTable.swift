import Foundation
import WarrenCore

/// The schedules as `check-config` and `schedule list` print them: name, task, timing, the next
/// fire, and (when the broker's record was read) the last one.
package enum ScheduleTable {
    /// One line per schedule, with a header.
    ///
    /// - Parameters:
    ///   - schedules: The configured schedules.
    ///   - now: The time to compute the next fires from.
    ///   - lastFired: The last fired tick per schedule, from the record; `nil` to leave the
    ///     column out (`check-config` does not connect).
    package static func lines(_ schedules: [ScheduleConfig], now: Date, lastFired: [String: Date]?) -> [String] {
        var header = ["schedule", "task", "when", "next fire"]
        if lastFired != nil { header.append("last fire") }
        let rows = schedules.map { schedule -> [String] in
            var row = [
                ErrorText.cell(schedule.name, width: 80), ErrorText.cell(schedule.task, width: 80), describe(schedule.timing),
                schedule.timing.next(after: now).map { CeleryTime.format($0) } ?? "never",
            ]
            if let lastFired { row.append(lastFired[schedule.name].map { CeleryTime.format($0) } ?? "unknown") }
            return row
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                column == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }
        return [line(header)] + rows.map(line)
    }

    /// `every 30s`, `cron "30 2 * * *" Europe/Berlin`.
    package static func describe(_ timing: ScheduleTiming) -> String {
        switch timing {
        case .every(let interval): "every \(interval.period.humanReadable)"
        case .cron(let expression, let zone): "cron \"\(expression.description)\" \(zone.identifier)"
        }
    }
}
