/// Where the Prometheus endpoint listens: the `metrics` block.
///
/// ```yaml
/// metrics:
///   enabled: true
///   listen: 127.0.0.1:9464     # /metrics, Prometheus text format
/// ```
public struct MetricsConfig: Sendable, Equatable {
    /// Whether to serve metrics at all. Defaults to `true`.
    public var enabled: Bool
    /// The address to listen on. Defaults to `127.0.0.1:9464`, reachable from this host only.
    public var listen: ListenAddress

    /// Creates a metrics configuration; every argument has the documented default.
    public init(enabled: Bool = true, listen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 9464)) {
        self.enabled = enabled
        self.listen = listen
    }
}

/// A TCP address to listen on, written `host:port`: `127.0.0.1:9464`, `0.0.0.0:9464`,
/// `localhost:9464`, `[::1]:9464`.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host name or IP address (an IPv6 address without its brackets).
    public var host: String
    /// The TCP port, 1 to 65 535.
    public var port: Int

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads `host:port` (an IPv6 host in brackets).
    ///
    /// - Returns: `nil` when the host is missing or malformed, or the port is not 1 to 65 535.
    public init?(_ text: String) {
        var hostPart: Substring
        let portPart: Substring
        if text.first == "[" {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].first == ":" else {
                return nil
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
            guard hostPart.contains(":") else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") { return nil }  // an IPv6 address needs brackets
        }
        guard !hostPart.isEmpty,
            hostPart.allSatisfy({ $0.isLetter || $0.isNumber || "-._:%".contains($0) }),
            !portPart.isEmpty, portPart.allSatisfy({ $0.asciiDigit != nil }),
            let port = Int(portPart), (1...65535).contains(port)
        else { return nil }
        self.host = String(hostPart)
        self.port = port
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
