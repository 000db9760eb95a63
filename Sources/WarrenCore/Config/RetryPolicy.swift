/// How often, and after how long, a failed task is tried again: the `retry` block.
///
/// ```yaml
/// retry:
///   max_attempts: 5
///   backoff: { initial: 1s, multiplier: 2, max: 5m, jitter: 0.2 }
/// ```
///
/// A queue's own `retry` block overrides it key by key.
public struct RetryPolicy: Sendable, Equatable {
    /// How many times a task runs in all, the first attempt included; 1 means never retried.
    /// Defaults to 5.
    public var maxAttempts: Int
    /// How long to wait before each retry.
    public var backoff: Backoff

    /// Creates a retry policy; every argument has the documented default.
    public init(maxAttempts: Int = 5, backoff: Backoff = Backoff()) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
    }

    /// Exponential backoff with jitter.
    ///
    /// The delay after attempt *n* is `initial × multiplierⁿ⁻¹`, capped at ``max``, then moved by
    /// a random factor in `1 ± jitter`, and capped at ``max`` again.
    public struct Backoff: Sendable, Equatable {
        /// The delay after the first failure. Defaults to 1 second.
        public var initial: Duration
        /// What each delay is multiplied by for the next one; at least 1. Defaults to 2.
        public var multiplier: Double
        /// The longest delay. Defaults to 5 minutes.
        public var max: Duration
        /// How far a delay may move at random, as a fraction of it, from 0 to 1, so that tasks
        /// that failed together are not retried together. Defaults to 0.2 (±20 %).
        public var jitter: Double

        /// Creates a backoff; every argument has the documented default.
        public init(initial: Duration = .seconds(1), multiplier: Double = 2, max: Duration = .seconds(300), jitter: Double = 0.2) {
            self.initial = initial
            self.multiplier = multiplier
            self.max = max
            self.jitter = jitter
        }

        /// The wait after `failures` failures in a row: the one backoff computation of Warren,
        /// for task retries, reconnections and child restarts.
        ///
        /// - Parameters:
        ///   - failures: How many failures in a row (smaller values than 1 count as 1).
        ///   - random: A source of numbers in `0...1` (values outside are clamped). 0.5 gives the
        ///     delay without jitter, 0 the shortest, 1 the longest. Inject a fixed one in tests.
        /// - Returns: `initial × multiplier^(failures-1)`, capped at `max`, times a factor in
        ///   `1 - jitter ... 1 + jitter` chosen by `random`, capped at `max` again; never negative,
        ///   rounded to the millisecond.
        public func delay(afterFailures failures: Int, random: () -> Double = { Double.random(in: 0...1) }) -> Duration {
            let exponent = Swift.max(failures, 1) - 1
            let initial = self.initial.seconds
            let cap = self.max.seconds
            let growth = Self.power(Swift.max(multiplier, 1), exponent)
            let base = initial > 0 ? Swift.min(cap, initial * growth) : 0
            let unit = Swift.min(Swift.max(random(), 0), 1)
            let jitter = Swift.min(Swift.max(self.jitter, 0), 1)
            let jittered = Swift.min(cap, base * (1 + jitter * (2 * unit - 1)))
            guard jittered.isFinite, jittered > 0 else { return .zero }
            let milliseconds = Swift.min((jittered * 1000).rounded(), 1e15)  // ~31 700 years: no Int64 overflow
            return .milliseconds(Int64(milliseconds))
        }

        /// `base` to the power of `exponent` by repeated squaring (no Foundation), saturating to infinity.
        private static func power(_ base: Double, _ exponent: Int) -> Double {
            var result = 1.0
            var square = base
            var remaining = exponent
            while remaining > 0 && result.isFinite {
                if remaining & 1 == 1 { result *= square }
                square *= square
                remaining >>= 1
            }
            return result
        }
    }

    /// Whether a task whose attempt number `attempt` (1 for the first run) failed may run again.
    ///
    /// - Parameter attempt: The number of the attempt that failed, starting at 1.
    /// - Returns: `true` while `attempt` is below ``maxAttempts``.
    public func allowsRetry(afterAttempt attempt: Int) -> Bool {
        attempt < maxAttempts
    }

    /// The delay before the attempt that follows the failed attempt number `attempt`.
    ///
    /// - Parameters:
    ///   - attempt: The number of the attempt that failed, starting at 1 (smaller values count as 1).
    ///   - random: A source of numbers in `0...1` (values outside are clamped). 0.5 gives the
    ///     delay without jitter, 0 the shortest, 1 the longest. Inject a fixed one in tests.
    /// - Returns: `initial × multiplier^(attempt-1)`, capped at `max`, times a factor in
    ///   `1 - jitter ... 1 + jitter` chosen by `random`, capped at `max` again; never negative,
    ///   rounded to the millisecond.
    public func delay(forAttempt attempt: Int, random: () -> Double) -> Duration {
        backoff.delay(afterFailures: attempt, random: random)
    }

    /// ``delay(forAttempt:random:)`` with the system's random numbers.
    public func delay(forAttempt attempt: Int) -> Duration {
        delay(forAttempt: attempt, random: { Double.random(in: 0...1) })
    }

}
