import Foundation
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Dead-letter reasons")
struct DeadLetterReasonTests {
    @Test func rawValuesArePinned() {
        #expect(
            DeadLetterReason.allCases.map(\.rawValue)
                == ["failed", "max-retries", "expired", "poison", "malformed", "unknown-task", "time-limit", "unsupported"])
        #expect(DeadLetterReason(rawValue: "max-retries") == .maxRetries)
        #expect(DeadLetterReason(rawValue: "unknown-task") == .unknownTask)
        #expect(DeadLetterReason(rawValue: "time-limit") == .timeLimit)
        #expect(DeadLetterReason(rawValue: "bogus") == nil)
        #expect("\(DeadLetterReason.poison)" == "poison")
    }

    @Test func codable() throws {
        let data = try JSONEncoder().encode([DeadLetterReason.expired, .malformed])
        #expect(String(decoding: data, as: UTF8.self) == #"["expired","malformed"]"#)
        #expect(try JSONDecoder().decode([DeadLetterReason].self, from: data) == [.expired, .malformed])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([DeadLetterReason].self, from: Data(#"["nope"]"#.utf8)) }
    }

    @Test func envelopeErrorsAreMalformed() {
        let error = EnvelopeError(.invalidHeader, "header 'retries' must be an integer", taskName: "demo.add", taskID: "1")
        #expect(error.reason == .malformed)
        #expect(error.description == "header 'retries' must be an integer (task demo.add, id 1)")
        #expect(EnvelopeError(.tooLarge, "big").description == "big")
    }
}
