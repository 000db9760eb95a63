import Foundation
import Testing

@testable import WarrenRuntime

@Suite("Schedule fire retries")
struct FireRetryTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("1 s, 2 s, 4 s, ... up to 15 s between attempts, while the fire has not expired")
    func delays() {
        let far = now.addingTimeInterval(3600)
        let waits = (1...7).map { FireRetry.delay(afterAttempts: $0, now: now, expiresAt: far) }
        #expect(waits == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(15), .seconds(15), .seconds(15)])
        #expect(FireRetry.delay(afterAttempts: 1, now: now, expiresAt: now.addingTimeInterval(0.5)) == nil)
        #expect(FireRetry.delay(afterAttempts: 3, now: now, expiresAt: now.addingTimeInterval(3)) == nil)
        #expect(FireRetry.delay(afterAttempts: 3, now: now, expiresAt: now.addingTimeInterval(5)) == .seconds(4))
    }
}
