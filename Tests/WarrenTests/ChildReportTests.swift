import Foundation
import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// The lines children and their supervisor exchange over the pipes.
@Suite("Child reports")
struct ChildReportTests {
    @Test(
        "every report reads back as it was written",
        arguments: [
            ChildReport.ready,
            .disconnected,
            .started(id: "a-1", hardDeadline: 1_790_000_000.5, name: "demo.add"),
            .started(id: "b 2", hardDeadline: nil, name: "a name with spaces"),
            .finished(TaskSummary(id: "a-1", name: "demo.add", outcome: .succeeded, duration: 0.0012, lag: 0.5)),
            .finished(TaskSummary(id: "b 2", name: "with space", outcome: .retried, duration: 3, lag: nil)),
            .deadLettered(reason: "malformed"),
            .recycling(reason: "max-tasks"),
            .recycling(reason: "max-memory"),
            .deathsQuery(id: "c-3"),
        ])
    func roundTrip(report: ChildReport) {
        let line = report.line
        #expect(line.hasSuffix("\n") && line.dropLast().allSatisfy { $0 != "\n" })
        #expect(ChildReport(line: Substring(line.dropLast())) == report)
    }

    @Test("a line that is no report is ignored, not misread")
    func garbage() {
        #expect(ChildReport(line: "S") == nil)
        #expect(ChildReport(line: "F succeeded x - id") == nil)
        #expect(ChildReport(line: "F nonsense 1 - id\tname") == nil)
        #expect(ChildReport(line: "{\"nope\":1}") == nil)
    }

    @Test("a task id with a line break or tab cannot break the line protocol; both ends see the same id")
    func hostileID() {
        let report = ChildReport.started(id: "evil\nF succeeded 1 - x\ty", hardDeadline: nil, name: "n\tm")
        let line = report.line
        #expect(line.filter { $0 == "\n" }.count == 1)
        #expect(ChildReport(line: Substring(line.dropLast())) == .started(id: "evil?F succeeded 1 - x?y", hardDeadline: nil, name: "n?m"))
        #expect(ChildReport.field("evil\nF succeeded 1 - x\ty") == "evil?F succeeded 1 - x?y")
    }

    @Test("the supervisor's answer names the task and its deaths, or none")
    func answer() throws {
        for notice in [
            SupervisorNotice(id: "x", deaths: TaskDeaths(count: 2, reason: .poison)), SupervisorNotice(id: "y", deaths: nil),
            SupervisorNotice(id: "with space - 3", deaths: TaskDeaths(count: 1, reason: .timeLimit)),
        ] {
            let line = String(decoding: notice.line, as: UTF8.self)
            #expect(line.hasSuffix("\n") && line.dropLast().allSatisfy { $0 != "\n" })
            #expect(SupervisorNotice(line: Substring(line.dropLast())) == notice)
        }
        #expect(SupervisorNotice(line: "N x poison id") == nil)
        #expect(SupervisorNotice(line: "N 2 bogus id") == nil)  // a reason Warren does not know
        #expect(SupervisorNotice(line: "{\"id\":\"x\"}") == nil)
    }
}
