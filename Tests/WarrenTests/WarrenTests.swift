import Testing
@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Test func versionIsSemantic() {
    #expect(WarrenVersion.current.split(separator: ".").count == 3)
}
