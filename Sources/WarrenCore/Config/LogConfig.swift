import Logging

/// What the processes log and how: the `log` block.
///
/// ```yaml
/// log:
///   level: info     # trace, debug, info, notice, warning, error, critical
///   format: text    # text or json (one JSON object per line)
/// ```
public struct LogConfig: Sendable, Equatable {
    /// The least severe level that is logged. Defaults to `info`.
    public var level: Logger.Level
    /// How each line is written. Defaults to ``LogFormat/text``.
    public var format: LogFormat

    /// Creates a log configuration; every argument has the documented default.
    public init(level: Logger.Level = .info, format: LogFormat = .text) {
        self.level = level
        self.format = format
    }
}

/// How log lines are written to standard error.
public enum LogFormat: String, Sendable, CaseIterable {
    /// One readable line per event, for a terminal or journald.
    case text
    /// One JSON object per line, for log shippers.
    case json
}
