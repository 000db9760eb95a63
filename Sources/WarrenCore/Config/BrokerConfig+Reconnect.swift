extension BrokerConfig {
    /// The waits between attempts to reach the broker again once a connection was lost:
    /// 100 ms doubling to 5 s, each moved at random by ±20 % so that the children of a
    /// restarted broker do not all knock at once.
    ///
    /// Short on purpose: a child or publisher that waits in vain costs one failed TCP connect
    /// per attempt, while one that waits too long leaves work in the queue after the broker
    /// came back (the supervisor's restart backoff, which this replaces, grows to 30 s).
    static let reconnectBackoff = RetryPolicy.Backoff(initial: .milliseconds(100), multiplier: 2, max: .seconds(5), jitter: 0.2)

    /// How long to wait before the next attempt after `failures` attempts in a row failed
    /// (the first wait, after a connection was lost, is ``reconnectBackoff``'s `initial`).
    package static func reconnectDelay(afterFailures failures: Int) -> Duration {
        reconnectBackoff.delay(afterFailures: failures)
    }
}
