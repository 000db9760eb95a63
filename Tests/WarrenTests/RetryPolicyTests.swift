import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Retry policy: exponential backoff with jitter")
struct RetryPolicyTests {
    let policy = RetryPolicy()  // 5 attempts; 1s, ×2, at most 5m, ±20 %

    @Test(
        "doubles from the initial delay, up to the maximum",
        arguments: [(1, 1_000), (2, 2_000), (3, 4_000), (4, 8_000), (9, 256_000), (10, 300_000), (50, 300_000)])
    func exponential(attempt: Int, milliseconds: Int64) {
        #expect(policy.delay(forAttempt: attempt, random: { 0.5 }) == .milliseconds(milliseconds))
    }

    @Test("jitter moves the delay by up to ±jitter, never above max")
    func jitter() {
        #expect(policy.delay(forAttempt: 1, random: { 0 }) == .milliseconds(800))
        #expect(policy.delay(forAttempt: 1, random: { 1 }) == .milliseconds(1_200))
        #expect(policy.delay(forAttempt: 3, random: { 0.25 }) == .milliseconds(3_600))
        #expect(policy.delay(forAttempt: 12, random: { 0 }) == .seconds(240))
        #expect(policy.delay(forAttempt: 12, random: { 1 }) == .seconds(300))
        // Out-of-range random values are clamped.
        #expect(policy.delay(forAttempt: 1, random: { -3 }) == .milliseconds(800))
        #expect(policy.delay(forAttempt: 1, random: { 7 }) == .milliseconds(1_200))
    }

    @Test("is deterministic for an injected random source")
    func deterministic() {
        var values = [0.1, 0.9, 0.5].makeIterator()
        let delays = (1...3).map { attempt in policy.delay(forAttempt: attempt, random: { values.next()! }) }
        #expect(delays == [.milliseconds(840), .milliseconds(2_320), .milliseconds(4_000)])
    }

    @Test("the system random source stays within the jitter")
    func systemRandom() {
        for _ in 0..<200 {
            let delay = policy.delay(forAttempt: 2)
            #expect(delay >= .milliseconds(1_600) && delay <= .milliseconds(2_400))
        }
    }

    @Test("other shapes: no jitter, a constant delay, fractions, odd attempt numbers")
    func shapes() {
        let constant = RetryPolicy(backoff: .init(initial: .seconds(10), multiplier: 1, max: .seconds(10), jitter: 0))
        #expect((1...5).map { constant.delay(forAttempt: $0, random: { 0 }) } == Array(repeating: .seconds(10), count: 5))
        let fractional = RetryPolicy(backoff: .init(initial: .milliseconds(250), multiplier: 1.5, max: .seconds(1), jitter: 0))
        #expect(
            (1...5).map { fractional.delay(forAttempt: $0, random: { 0.5 }) }
                == [.milliseconds(250), .milliseconds(375), .milliseconds(563), .milliseconds(844), .seconds(1)])
        #expect(policy.delay(forAttempt: 0, random: { 0.5 }) == .seconds(1))
        #expect(policy.delay(forAttempt: -4, random: { 0.5 }) == .seconds(1))
        #expect(policy.delay(forAttempt: .max, random: { 0.5 }) == .seconds(300))
    }

    @Test("max_attempts counts the first run")
    func attempts() {
        #expect(policy.allowsRetry(afterAttempt: 1))
        #expect(policy.allowsRetry(afterAttempt: 4))
        #expect(!policy.allowsRetry(afterAttempt: 5))
        #expect(!RetryPolicy(maxAttempts: 1).allowsRetry(afterAttempt: 1))
    }
}
