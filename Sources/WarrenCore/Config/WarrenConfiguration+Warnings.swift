extension WarrenConfiguration {
    /// Things that work but will probably hurt.
    /// Shown by `check-config` and logged by `run` at start.
    package var warnings: [String] {
        var out: [String] = []
        if broker.urls.contains(where: \.usesTLS), broker.tls?.verify == false {
            out.append(
                "broker.tls.verify is false: the connection is encrypted but the broker's certificate is NOT checked, "
                    + "so anyone on the path can pose as the broker and read the password and every task. "
                    + "Give the CA with broker.tls.ca instead (IP addresses in the certificate's subjectAltName are matched too).")
        }
        if metrics.enabled, ["0.0.0.0", "::", ""].contains(metrics.listen.host) {
            out.append(
                "metrics.listen is \(metrics.listen): the metrics port answers on every network interface, to anyone who "
                    + "reaches the host. Prefer 127.0.0.1 or a private address that only Prometheus reaches.")
        }
        let remotePlaintext = broker.urls.filter { !$0.usesTLS && !Self.isLoopback($0.host) }.map(\.host)
        if !remotePlaintext.isEmpty {
            out.append(
                "broker.url reaches \(remotePlaintext.joined(separator: ", ")) over plain amqp://: the password and every task "
                    + "cross the network in clear. Use amqps:// (RabbitMQ's TLS listener, port 5671).")
        }
        for queue in queues {
            // RabbitMQ closes a channel whose delivery stays unacknowledged longer than its
            // consumer_timeout (30 min by default on 3.10; per queue only from 3.12).
            if let limit = queue.timeLimit, limit > .seconds(30 * 60) {
                out.append(
                    "queues.\(queue.name).time_limit is \(limit.humanReadable), over RabbitMQ's default consumer_timeout of 30m: "
                        + "the broker would close the channel and redeliver the task. Raise consumer_timeout in rabbitmq.conf "
                        + "(e.g. consumer_timeout = 7200000 for 2h) or shorten the limit.")
            }
        }
        return out
    }

    /// Whether `host` names this machine (a loopback address or `localhost`).
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
