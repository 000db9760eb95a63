import Foundation
import Yams

/// The `schedules` mapping (docs/schedules.md).
extension ConfigReader {
    static let scheduleKeys = ["task", "every", "cron", "timezone", "args", "kwargs", "expires", "queue", "routing_key"]

    /// Reads every schedule; one whose timing cannot be read is reported and left out.
    mutating func readSchedules(_ top: ConfigMapping) -> [ScheduleConfig] {
        guard let schedules = mapping(top.value(for: "schedules"), at: "schedules", keys: nil) else { return [] }
        var result: [ScheduleConfig] = []
        for (name, _, value) in schedules.entries {
            let path = ConfigKeyPath("schedules") + name
            guard let block = mapping(value, at: path, keys: Self.scheduleKeys) else { continue }
            let task = scalar("task", in: block, .string)
            if task == nil && !failedBelow(path + "task") {
                report("needs the task to publish, for example  task: demo.noop", at: path + "task", mark: mark(for: path))
            }
            let timing = readTiming(block, at: path)
            let args = readArguments(block.value(for: "args"), at: path + "args")
            let kwargs = readKeywordArguments(block.value(for: "kwargs"), at: path + "kwargs")
            let expires = scalar("expires", in: block, .duration)
            let queue = scalar("queue", in: block, .string)
            let routingKey = scalar("routing_key", in: block, .string)
            guard let task, let timing else { continue }
            result.append(
                ScheduleConfig(
                    name: name, task: task, timing: timing, args: args ?? [], kwargs: kwargs ?? [:], expires: expires, queue: queue,
                    routingKey: routingKey))
        }
        return result
    }

    /// `every`, or `cron` with `timezone`: exactly one of the first two.
    private mutating func readTiming(_ block: ConfigMapping, at path: ConfigKeyPath) -> ScheduleTiming? {
        let present = { (key: String) in block.value(for: key).map { !Self.isNull($0) } ?? false }
        switch (present("every"), present("cron")) {
        case (true, true):
            report("has both every and cron; keep one", at: path, mark: mark(for: path + "cron"))
            return nil
        case (false, false):
            report("needs when to fire: every (like every: 30s) or cron (like cron: \"*/5 * * * *\")", at: path, mark: mark(for: path))
            return nil
        case (true, false):
            if present("timezone") {
                report(
                    "applies to cron only: every counts its ticks from 1970-01-01 00:00 UTC", at: path + "timezone",
                    mark: mark(for: path + "timezone"))
            }
            return scalar("every", in: block, .interval).map(ScheduleTiming.every)
        case (false, true):
            let zone = scalar("timezone", in: block, .timeZone)
            guard let expression = scalar("cron", in: block, .cron) else { return nil }
            if present("timezone") && zone == nil { return nil }
            return .cron(expression, zone ?? TimeZone(identifier: "UTC")!)
        }
    }

    /// `args`: a list of any values.
    private mutating func readArguments(_ node: Node?, at path: ConfigKeyPath) -> [JSONValue]? {
        guard let node, !Self.isNull(node) else { return nil }
        guard case .sequence = node else {
            report("expected a list of arguments like [1, \"a\"], got \(Self.describe(node))", at: path, mark: node.mark)
            return nil
        }
        return json(node, at: path)?.arrayValue
    }

    /// `kwargs`: a mapping of names to any values.
    private mutating func readKeywordArguments(_ node: Node?, at path: ConfigKeyPath) -> JSONObject? {
        guard let node, !Self.isNull(node) else { return nil }
        guard case .mapping = node else {
            report("expected a mapping of keyword arguments like {format: pdf}, got \(Self.describe(node))", at: path, mark: node.mark)
            return nil
        }
        return json(node, at: path)?.objectValue
    }

    /// A YAML value as JSON, read as YAML 1.2's core schema does: unquoted `null`, `~` and
    /// nothing are null, `true` and `false` booleans, numbers numbers; everything else, and
    /// anything quoted, a string. `nil` when a part cannot be JSON (then reported).
    private mutating func json(_ node: Node, at path: ConfigKeyPath) -> JSONValue? {
        switch node {
        case .scalar(let scalar):
            guard scalar.style == .plain || scalar.style == .any else { return .string(scalar.string) }
            return Self.plainJSON(scalar.string)
                ?? {
                    report("is not a JSON value (infinity and NaN cannot be sent)", at: path, mark: node.mark)
                    return nil
                }()
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for (index, item) in sequence.enumerated() {
                guard let value = json(item, at: path + index) else { return nil }
                items.append(value)
            }
            return .array(items)
        case .mapping(let mapping):
            var members: [(String, JSONValue)] = []
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let key) = keyNode, !Self.isNull(keyNode) else {
                    report("expected a key name, got \(Self.describe(keyNode))", at: path, mark: keyNode.mark)
                    return nil
                }
                if members.contains(where: { $0.0 == key.string }) {
                    report("appears twice in this mapping; keep one", at: path + key.string, mark: keyNode.mark)
                    return nil
                }
                guard let value = json(valueNode, at: path + key.string) else { return nil }
                members.append((key.string, value))
            }
            return .object(JSONObject(members))
        case .alias:
            report("aliases are not supported here; write the value out", at: path, mark: node.mark)
            return nil
        }
    }

    /// The JSON value of a plain (unquoted) scalar; `nil` for `.inf` and `.nan`.
    static func plainJSON(_ text: String) -> JSONValue? {
        if ["", "~", "null", "Null", "NULL"].contains(text) { return .null }
        if ["true", "True", "TRUE"].contains(text) { return .bool(true) }
        if ["false", "False", "FALSE"].contains(text) { return .bool(false) }
        if [".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", ".nan", ".NaN", ".NAN"].contains(text) { return nil }
        let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
        if !digits.isEmpty, digits.allSatisfy({ $0.asciiDigit != nil }) {
            if let value = Int64(text) { return .int(value) }
            return Double(text).map(JSONValue.double) ?? .string(text)
        }
        let isNumber =
            !digits.isEmpty && digits.first != "e" && digits.first != "E"
            && digits.allSatisfy { $0.asciiDigit != nil || ".eE+-".contains($0) } && digits.contains { $0.asciiDigit != nil }
        if isNumber, let value = Double(text), value.isFinite { return .double(value) }
        return .string(text)
    }
}

extension ScalarKind where Value == IntervalSchedule {
    /// `every`: a duration of at least a second.
    static var interval: ScalarKind {
        ScalarKind(expected: "a duration of at least 1s like 30s or 5m", pluralExpected: "durations") { text in
            switch HumanDurationParser.parse(text) {
            case .failure(let failure): return .failure(failure)
            case .success(let period):
                do throws(ScheduleError) {
                    return .success(try IntervalSchedule(every: period))
                } catch {
                    return .failure(HumanValueFailure(detail: "shorter than 1s"))
                }
            }
        }
    }
}

extension ScalarKind where Value == CronExpression {
    /// `cron`: five fields or a shortcut.
    static var cron: ScalarKind {
        ScalarKind(expected: "a cron expression like \"*/5 * * * *\" or @daily", pluralExpected: "cron expressions") { text in
            do throws(ScheduleError) {
                return .success(try CronExpression(text))
            } catch {
                return .failure(HumanValueFailure(detail: error.description))
            }
        }
    }
}

extension ScalarKind where Value == TimeZone {
    /// `timezone`: an IANA name the system knows (`Europe/Berlin`, `UTC`); abbreviations such as
    /// `CET` or `EST`, which name no place and so no rules for summer time, are refused unless
    /// the time zone database lists them as zones.
    static var timeZone: ScalarKind {
        ScalarKind(expected: "an IANA time zone like Europe/Berlin or UTC", pluralExpected: "time zones") { text in
            let known = TimeZone.knownTimeZoneIdentifiers
            if text == "UTC" || known.contains(text), let zone = TimeZone(identifier: text) { return .success(zone) }
            let suggestion = closestSpelling(to: text, among: known).map {
                "did you mean \(ErrorText.quoted($0, limit: ConfigKeyPath.quotedLimit))?"
            }
            return .failure(HumanValueFailure(detail: suggestion))
        }
    }
}
