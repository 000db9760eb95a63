import Foundation
import WarrenCore

extension StatusReport {
    /// The report as a readable table, with a line on what could not be read. Queue names are
    /// escaped as ``ErrorText/cell(_:width:)`` does; widths count the characters shown.
    package var table: [String] {
        let header = ["queue", "messages", "consumers", "children", "deliver/s", "ack/s", "done", "retries", "dead", "lag p50", "lag p99"]
        let rows = queues.map { q -> [String] in
            [
                ErrorText.cell(q.name, width: 255), Self.count(q.messages), Self.count(q.consumers),
                q.paused == true ? "paused" : q.children.map { "\(q.childrenReady ?? 0)/\($0)" } ?? "-", Self.rate(q.deliveredPerSecond),
                Self.rate(q.ackedPerSecond),
                Self.count(q.tasksTotal), Self.count(q.retriesTotal), Self.count(q.deadLettersTotal), Self.seconds(q.lagP50Seconds),
                Self.seconds(q.lagP99Seconds),
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                // Names left, figures right.
                column == 0
                    ? cell + String(repeating: " ", count: widths[column] - cell.count)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }
        var out = [
            "warren status at \(Self.clock(time))",
            "broker      \(broker)" + (brokerReachable ? "" : "   NOT REACHABLE"),
            "supervisor  " + (metricsURL.map { $0 + (supervisorReachable ? "" : "   not answering") } ?? "metrics disabled in the config"),
            "",
            line(header),
        ]
        out += rows.map(line)
        out.append("")
        out.append(
            "dead letters: \(Self.count(deadLetters.messages)) in \(deadLetters.queue)   "
                + "unrouted: \(Self.count(unrouted.messages)) in \(unrouted.queue)   "
                + "waiting for a retry or countdown: \(Self.count(waiting))")
        if !supervisorReachable {
            out.append("(no supervisor figures: children, rates and lag come from a running `run` with metrics enabled)")
        }
        if queues.contains(where: { $0.paused == true }) {
            out.append("(paused: its children stopped by `queue pause` or Celery's cancel_consumer; `queue resume` starts them)")
        }
        if queues.contains(where: { $0.children != nil && ($0.childrenReady ?? 0) < ($0.children ?? 0) }) {
            out.append("(children x/y: x of y child processes hold a live consumer; the others are starting or reconnecting)")
        }
        return out
    }

    private static func count(_ n: Int?) -> String { n.map(String.init) ?? "-" }

    private static func rate(_ r: Double?) -> String { r.map { String(format: "%.1f", $0) } ?? "-" }

    private static func seconds(_ s: Double?) -> String {
        guard let s else { return "-" }
        if s < 1 { return "\(Int((s * 1000).rounded())) ms" }
        return String(format: "%.1f s", s)
    }

    private static func clock(_ date: Date) -> String {
        CeleryTime.format(date, fractionalSeconds: false)
    }
}
