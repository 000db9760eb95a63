import Foundation
import Testing

@testable import WarrenCore

@Suite("Config: schedules")
struct ScheduleConfigTests {
    private func load(_ yaml: String) throws(ConfigurationError) -> WarrenConfiguration { try ConfigText.load(yaml) }

    private func problems(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        ConfigText.problems(yaml, sourceLocation: sourceLocation)
    }

    @Test("every, cron with a time zone, arguments with their YAML types, expires and the overrides")
    func reads() throws {
        let config = try load(
            """
            queues: { q: }
            schedules:
              heartbeat:
                task: ops.ping
                every: 30s
                args: [1, "2", 2.5, true, null, [a], {b: c}]
              nightly-report:
                task: report.nightly
                cron: "30 2 * * *"
                timezone: Europe/Berlin
                kwargs: {format: pdf, pages: 3, "quoted": "007"}
                expires: 1h
                routing_key: reports.nightly
              direct:
                task: x.y
                cron: "@hourly"
                queue: special
            """)
        #expect(config.schedules.map(\.name) == ["heartbeat", "nightly-report", "direct"])
        let heartbeat = try #require(config.schedule(named: "heartbeat"))
        #expect(heartbeat.timing == .every(try IntervalSchedule(every: .seconds(30))))
        #expect(heartbeat.args == [1, "2", 2.5, true, .null, ["a"], ["b": "c"]])
        #expect(heartbeat.expires == nil && heartbeat.queue == nil && heartbeat.routingKey == nil)
        #expect(heartbeat.destination(exchange: "warren") == ("warren", "ops.ping"))
        let nightly = try #require(config.schedule(named: "nightly-report"))
        #expect(nightly.timing == .cron(try CronExpression("30 2 * * *"), berlin))
        #expect(nightly.kwargs == ["format": "pdf", "pages": 3, "quoted": "007"])
        #expect(nightly.expires == .seconds(3_600))
        #expect(nightly.destination(exchange: "warren") == ("warren", "reports.nightly"))
        let direct = try #require(config.schedule(named: "direct"))
        #expect(direct.timing == .cron(try CronExpression("0 * * * *"), utcZone))
        #expect(direct.destination(exchange: "warren") == ("", "special"))
    }

    @Test("no schedules by default")
    func none() throws {
        #expect(try load("queues: { q: }").schedules.isEmpty)
        #expect(try load("queues: { q: }\nschedules:\n").schedules.isEmpty)
    }

    @Test("describe() prints the schedules as YAML that loads back")
    func describeRoundTrips() throws {
        let config = try load(
            """
            queues: { q: }
            schedules:
              a: { task: t.a, every: 90s, args: [1, "x\\"y", 1.5, [true]], kwargs: {"k 1": {n: null}} }
              b: { task: t.b, cron: "*/5 9-17 * * MON-FRI", timezone: America/New_York, expires: 2m, queue: qq }
            """)
        let text = config.describe()
        #expect(text.contains("schedules:\n  a:\n    task: t.a\n    every: 1m30s\n    args: [1, \"x\\\"y\", 1.5, [true]]\n"))
        #expect(text.contains("    cron: \"*/5 9-17 * * MON-FRI\"\n    timezone: America/New_York\n"))
        var reloaded = try load(text)
        reloaded.broker.urls = config.broker.urls  // describe() masks the password
        #expect(reloaded == config)
    }

    @Test("a wrong schedule is refused with its line and key")
    func problemsWithLines() {
        #expect(
            problems(
                """
                queues: { q: }
                schedules:
                  a:
                    task: demo.noop
                    every: 500ms
                  b:
                    cron: "61 * * * *"
                    timezone: CEST
                  c:
                    task: x
                    every: 1m
                    cron: "* * * * *"
                  d:
                    task: x
                    cron: "@daily"
                    timezone: Europe/Berln
                    kwargs: [1]
                  e:
                    task: y
                    every: 5s
                    timezone: UTC
                    args: {a: 1}
                    colour: red
                  f:
                    task: z
                """) == [
                    "warren.yaml:5:12: schedules.a.every: expected a duration of at least 1s like 30s or 5m, got \"500ms\" (shorter than 1s)",
                    "warren.yaml:6:3: schedules.b.task: needs the task to publish, for example  task: demo.noop",
                    "warren.yaml:7:11: schedules.b.cron: expected a cron expression like \"*/5 * * * *\" or @daily, got \"61 * * * *\" (minute: 61 is out of range 0-59)",
                    "warren.yaml:8:15: schedules.b.timezone: expected an IANA time zone like Europe/Berlin or UTC, got \"CEST\"",
                    "warren.yaml:12:11: schedules.c: has both every and cron; keep one",
                    "warren.yaml:16:15: schedules.d.timezone: expected an IANA time zone like Europe/Berlin or UTC, got \"Europe/Berln\" (did you mean \"Europe/Berlin\"?)",
                    "warren.yaml:17:13: schedules.d.kwargs: expected a mapping of keyword arguments like {format: pdf}, got a list",
                    "warren.yaml:21:15: schedules.e.timezone: applies to cron only: every counts its ticks from 1970-01-01 00:00 UTC",
                    "warren.yaml:22:11: schedules.e.args: expected a list of arguments like [1, \"a\"], got a mapping",
                    "warren.yaml:23:5: schedules.e.colour: unknown key, expected one of task, every, cron, timezone, args, kwargs, expires, queue, routing_key",
                    "warren.yaml:24:3: schedules.f: needs when to fire: every (like every: 30s) or cron (like cron: \"*/5 * * * *\")",
                ])
    }

    @Test("values out of range, and overrides that exclude each other")
    func ranges() {
        #expect(
            problems(
                """
                queues: { q: }
                schedules:
                  a: { task: t, every: 1m, expires: 0s, queue: amq.x, routing_key: r }
                  b: { task: "", every: 1m, args: [.inf] }
                  c: { task: t, every: 1m, queue: warren.scheduler }
                """) == [
                    "warren.yaml:3:37: schedules.a.expires: must be longer than 0s; leave the key out for one period",
                    "warren.yaml:3:48: schedules.a.queue: names starting with \"amq.\" are reserved by the broker",
                    "warren.yaml:3:68: schedules.a.routing_key: queue and routing_key exclude each other: a fire goes straight to the queue, or through the exchange with the routing key",
                    "warren.yaml:4:14: schedules.b.task: must not be empty",
                    "warren.yaml:4:36: schedules.b.args[0]: is not a JSON value (infinity and NaN cannot be sent)",
                ])
    }

    @Test("check-config refuses it with exit status 78, like every other key")
    func exitStatus() {
        #expect(ConfigurationError.exitStatus == 78)
    }

    @Test("a configuration built in code is validated too")
    func validateInCode() throws {
        var config = WarrenConfiguration(queues: [QueueConfig(name: "q")])
        config.schedules = [
            ScheduleConfig(
                name: "s", task: "t", timing: .every(try IntervalSchedule(every: .seconds(5))), expires: .zero, queue: "a", routingKey: "b")
        ]
        do throws(ConfigurationError) {
            try config.validate()
            Issue.record("accepted")
        } catch {
            #expect(error.problems.map(\.keyPath) == ["schedules.s.expires", "schedules.s.routing_key"])
        }
    }

    @Test("the scheduler's queues are Warren's own: no work queue may take their names")
    func reservedNames() {
        #expect(
            problems("queues: { warren.scheduler: }\n")
                == [
                    "warren.yaml:1:11: queues[\"warren.scheduler\"]: is a queue of the periodic scheduler of exchange \"warren\"; give it another name"
                ])
    }

    @Test("plain YAML scalars read as JSON: YAML 1.2's core types, quoted text as strings")
    func plainScalars() {
        #expect(ConfigReader.plainJSON("12") == .int(12))
        #expect(ConfigReader.plainJSON("-3") == .int(-3))
        #expect(ConfigReader.plainJSON("1.5e3") == .double(1500))
        #expect(ConfigReader.plainJSON("99999999999999999999") == .double(1e20))
        #expect(ConfigReader.plainJSON("yes") == .string("yes"))  // not YAML 1.1's boolean
        #expect(ConfigReader.plainJSON("e5") == .string("e5"))
        #expect(ConfigReader.plainJSON("1.2.3") == .string("1.2.3"))
        #expect(ConfigReader.plainJSON("~") == .null)
        #expect(ConfigReader.plainJSON(".nan") == nil)
    }
}
