import Testing

@testable import WarrenCore

/// A config file's text read as `warren.yaml` with no environment, for the config tests.
enum ConfigText {
    static func load(_ yaml: String) throws(ConfigurationError) -> WarrenConfiguration {
        try ConfigLoader.load(yaml: yaml, source: "warren.yaml", environment: [:])
    }

    /// The problems of a refused file, one line each; an accepted file is a test failure.
    static func problems(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        do throws(ConfigurationError) {
            _ = try load(yaml)
            Issue.record("the configuration was accepted", sourceLocation: sourceLocation)
            return []
        } catch {
            #expect(error.code == .invalid, sourceLocation: sourceLocation)
            return error.problems.map(\.description)
        }
    }
}
