import Foundation
import PropertyBased
import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

/// Property tests of the config loader on random and broken files: what an operator relies on
/// when a config file is wrong. Loading never crashes or hangs; a file is either accepted or
/// refused with problems that say where: every problem in the file names a line and column
/// that exist, and every problem with the values (not the YAML syntax) names its key.
///
/// What a refusal cannot name, by its nature: a YAML syntax error has a line but no key (the
/// text could not be read into keys); an empty file has neither; a file whose top is not a
/// mapping, or whose top mapping has a key that is not a name, has a line but no key. The
/// tests hold the loader to exactly that.
@Suite("Fuzzing the config loader", .timeLimit(fuzzTimeLimit))
struct ConfigFuzzTests {
    static let documents = Generator<String, Shrink.None<String>> { rng in ConfigFuzzer.document(using: &rng) }
    static let environments = Generator<[String: String], Shrink.None<[String: String]>> { rng in
        rng.chance(0.7) ? [:] : [ConfigLoader.brokerURLVariable: rng.chance(0.5) ? rng.pick(ConfigFuzzer.values) : rng.text()]
    }

    @Test("mutations of Config/warren.yaml and random documents load or are refused with located problems")
    func loadsOrRefuses() async {
        await propertyCheck(count: fuzzIterations(1200), input: Self.documents) { yaml in
            Self.check(yaml)
        }
    }

    @Test("a wrong WARREN_BROKER_URL is refused naming the variable, its password masked")
    func environment() async {
        await propertyCheck(count: fuzzIterations(300), input: Self.environments) { environment in
            let yaml = "queues:\n  default:\n    routes: [\"#\"]\n"
            do throws(ConfigurationError) {
                _ = try ConfigLoader.load(yaml: yaml, source: "warren.yaml", environment: environment)
            } catch {
                for problem in error.problems {
                    #expect(problem.source == "environment" && problem.keyPath == ConfigLoader.brokerURLVariable, "\(problem)")
                    #expect(!problem.description.contains(":secret@"), "\(problem)")
                }
            }
        }
    }

    /// What loading `yaml` must satisfy, accepted or refused.
    static func check(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let configuration: WarrenConfiguration
        do {
            configuration = try ConfigLoader.load(yaml: yaml, source: "warren.yaml", environment: [:])
        } catch {
            expectLocated(error, in: yaml, sourceLocation: sourceLocation)
            return
        }
        // Accepted: it passes its own checks, and has what a worker needs.
        #expect(throws: Never.self, sourceLocation: sourceLocation) { try configuration.validate() }
        #expect(!configuration.queues.isEmpty && !configuration.broker.urls.isEmpty, sourceLocation: sourceLocation)
    }

    /// Every problem names a line and column of the file and, unless it is about the YAML syntax
    /// or the whole document, a key; messages are single readable lines.
    static func expectLocated(_ error: ConfigurationError, in yaml: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!error.problems.isEmpty, sourceLocation: sourceLocation)
        #expect(error.code == .syntax || error.code == .invalid, sourceLocation: sourceLocation)
        let lineCount = lineBreaks(in: yaml) + 1
        for problem in error.problems {
            #expect(problem.source == "warren.yaml", sourceLocation: sourceLocation)
            #expect(!problem.message.isEmpty, sourceLocation: sourceLocation)
            let control = problem.description.unicodeScalars.first { $0.properties.generalCategory == .control }
            #expect(control == nil, "a control character in \(problem.description.debugDescription)", sourceLocation: sourceLocation)
            #expect(problem.description.count <= 1000, "\(problem.description.prefix(300))…", sourceLocation: sourceLocation)
            if isAboutEmptyDocument(problem, yaml) { continue }
            guard let line = problem.line, let column = problem.column else {
                Issue.record("no line: \(problem)", sourceLocation: sourceLocation)
                continue
            }
            #expect(
                (1...lineCount).contains(line) && column >= 1, "line \(line) of \(lineCount): \(problem)", sourceLocation: sourceLocation)
            if error.code == .invalid && !isAboutWholeDocument(problem) {
                #expect(!problem.keyPath.isEmpty, "no key: \(problem)", sourceLocation: sourceLocation)
            }
        }
    }

    /// The one problem that has no line: a file with nothing but comments and blank lines.
    static func isAboutEmptyDocument(_ problem: ConfigurationError.Problem, _ yaml: String) -> Bool {
        problem.line == nil && problem.keyPath.isEmpty && problem.message.hasPrefix("the file is empty")
    }

    /// A problem at the top of the file that has a line but no key to name: the top is not a
    /// mapping, or one of its keys is not a name (`[a, b]: c`).
    static func isAboutWholeDocument(_ problem: ConfigurationError.Problem) -> Bool {
        problem.keyPath.isEmpty
            && (problem.message.hasPrefix("expected a mapping of keys") || problem.message.hasPrefix("expected a key name"))
    }

    /// Line breaks as YAML counts them: LF, CR, CRLF, NEL, LS and PS.
    static func lineBreaks(in text: String) -> Int {
        var count = 0
        var previous: Unicode.Scalar?
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": if previous != "\r" { count += 1 }
            case "\r", "\u{85}", "\u{2028}", "\u{2029}": count += 1
            default: break
            }
            previous = scalar
        }
        return count
    }
}
