import AMQP
import Foundation

/// A message Warren publishes while it settles a task: the next step of its chain, a `link`
/// callback or a `link_error` errback. Published with the broker's confirm before the task is
/// acknowledged, under the task id the client froze in the signature, so a redelivered task
/// that publishes it again makes a recognisable duplicate, never a lost step.
package struct FollowUp: Sendable, Equatable {
    /// What it is, for logs.
    package enum Kind: String, Sendable {
        case chainStep = "chain step"
        case callback
        case errback
    }

    package var kind: Kind
    package var message: TaskMessage
    /// Where it goes: `nil` for the routes (the task exchange, routing key = task name), else the
    /// exchange the signature named (`""` with the queue name as routing key for `queue`).
    package var exchange: String?
    package var routingKey: String?

    /// The exchange and routing key to publish to, given the workers' task exchange.
    package func destination(taskExchange: String) -> (exchange: String, routingKey: String) {
        (exchange ?? taskExchange, routingKey ?? message.name)
    }

    /// A message built from `signature`, as Celery's worker applies it: `leading` (the parent's
    /// result, or the failed task's id) before its own args unless it is immutable; the frozen
    /// `task_id` and `reply_to`; `parent_id` = `parent`, `root_id` inherited; the options Celery
    /// carries, each range-checked (a bad one is left out, never trusted).
    init(_ kind: Kind, signature: TaskSignature, leading: [JSONValue], parent: TaskMessage, chain: [TaskSignature], now: Date) {
        let o = signature.options
        let id = o["task_id"]?.stringValue.flatMap { $0.isEmpty || $0.utf8.count > TaskSignature.maxNameBytes ? nil : $0 }
        var m = TaskMessage(
            name: signature.task, id: id ?? TaskMessage.newID(), args: (signature.immutable ? [] : leading) + signature.args,
            kwargs: signature.kwargs, rootID: parent.rootID ?? parent.id, parentID: parent.id, now: now)
        if let replyTo = o["reply_to"]?.stringValue, !replyTo.isEmpty, replyTo.utf8.count <= TaskSignature.maxNameBytes {
            m.replyTo = replyTo
        }
        if let p = o["priority"]?.intValue, (0...255).contains(p) { m.priority = UInt8(p) } else { m.priority = parent.priority }
        if let countdown = Self.seconds(o["countdown"]) {
            m.eta = now.addingTimeInterval(countdown)
        } else if let eta = o["eta"]?.stringValue.flatMap(CeleryTime.parse) {
            m.eta = eta
        }
        if let expires = Self.seconds(o["expires"]) {
            m.expires = now.addingTimeInterval(expires)
        } else if let expires = o["expires"]?.stringValue.flatMap(CeleryTime.parse) {
            m.expires = expires
        }
        let hard = Self.seconds(o["time_limit"]).flatMap { $0 > 0 ? Duration.milliseconds(Int64($0 * 1000)) : nil }
        let soft = Self.seconds(o["soft_time_limit"]).flatMap { $0 > 0 ? Duration.milliseconds(Int64($0 * 1000)) : nil }
        m.timeLimit = TaskTimeLimit(hard: hard, soft: soft)
        if let group = o["group_id"]?.stringValue, group.utf8.count <= TaskSignature.maxNameBytes { m.group = group }
        if let index = o["group_index"]?.intValue, index >= 0 { m.groupIndex = index }
        m.embed = [
            "callbacks": Self.signatures(o["link"]), "errbacks": Self.signatures(o["link_error"]),
            "chain": chain.isEmpty ? .null : .array(chain.map(\.json)), "chord": .null,
        ]
        self.kind = kind
        self.message = m
        let exchange = o["exchange"].flatMap(Self.name)
        let routingKey = o["routing_key"].flatMap { $0.stringValue }.flatMap { $0.utf8.count <= 255 ? $0 : nil }
        if let queue = o["queue"].flatMap(Self.name), exchange == nil {
            // Celery's `queue=`: straight to that queue through the default exchange.
            self.exchange = ""
            self.routingKey = queue
        } else {
            self.exchange = exchange
            self.routingKey = exchange == nil ? routingKey : (routingKey ?? signature.task)
        }
    }

    /// A number of seconds from an option: finite, 0 to 10 years.
    private static func seconds(_ value: JSONValue?) -> Double? {
        guard let s = value?.doubleValue, s.isFinite, (0...315_360_000).contains(s) else { return nil }
        return s
    }

    /// A queue or exchange name: a string, or kombu's `{"name": ...}` form; at most 255 bytes.
    private static func name(_ value: JSONValue) -> String? {
        let text = value.stringValue ?? value["name"]?.stringValue
        guard let text, text.utf8.count <= 255 else { return nil }
        return text
    }

    /// `link`/`link_error` options as the embed's list: one signature or several.
    private static func signatures(_ value: JSONValue?) -> JSONValue {
        switch value {
        case .array(let items)?: .array(items)
        case .object?: .array([value!])
        default: .null
        }
    }
}
