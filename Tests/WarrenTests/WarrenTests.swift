import Testing
@testable import Warren

@Test func versionIsSemantic() {
    #expect(Warren.version.split(separator: ".").count == 3)
}
