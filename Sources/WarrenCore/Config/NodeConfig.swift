/// The supervisor as a Celery node (docs/celery-node.md): its name, which remote-control
/// methods it answers, and whether it sends task events from the start.
///
/// ```yaml
/// node_name: warren@web-3           # default warren@<hostname>
/// control:
///   enabled: true                   # answer celery inspect / control (the pidbox)
///   allow: [ping, stats, ...]       # default: ``ControlConfig/defaultAllow``
/// events: false                     # task events from the start
/// ```
public struct ControlConfig: Sendable, Equatable {
    /// Whether the node consumes its pidbox queue and sends worker heartbeats (`control.enabled`).
    /// Defaults to `true`.
    public var enabled: Bool
    /// The methods it answers (`control.allow`); any other gets an error reply and a log line.
    /// Defaults to ``defaultAllow``.
    public var allow: [String]

    /// Every method a Warren node knows, allowed by default or not.
    public static let knownMethods = defaultAllow + ["shutdown", "pool_grow", "pool_shrink", "time_limit"]

    /// What `control.allow` is when left out: every known method except those that change the
    /// pool or stop the node (`shutdown`, `pool_grow`, `pool_shrink`, `time_limit`).
    public static let defaultAllow = [
        "ping", "stats", "active", "reserved", "scheduled", "registered", "active_queues", "revoked", "conf", "report", "clock",
        "query_task", "revoke", "enable_events", "disable_events", "add_consumer", "cancel_consumer",
    ]

    /// Creates a control block; the defaults are the documented ones.
    public init(enabled: Bool = true, allow: [String] = ControlConfig.defaultAllow) {
        self.enabled = enabled
        self.allow = allow
    }

    /// Whether `method` is answered.
    public func allows(_ method: String) -> Bool { enabled && allow.contains(method) }
}

extension WarrenConfiguration {
    /// The longest node name: its pidbox queue, `<node>.celery.pidbox`, must stay within AMQP's
    /// 255 bytes for a queue name.
    public static let maxNodeNameBytes = 200

    /// The node name in force: ``nodeName``, else `warren@<hostname>`.
    ///
    /// - Parameter hostname: This host's name (`gethostname`).
    public func resolvedNodeName(hostname: String) -> String {
        nodeName ?? "warren@\(hostname)"
    }
}
