// swift-tools-version:6.0
// A Hummingbird 2 app that sends typed tasks with WarrenClient and awaits their results: the
// example of docs/client.md, and what scripts/example-test drives with 1,000 concurrent requests.
// Its own package, so that Warren's Package.swift does not depend on Hummingbird.
import PackageDescription

let package = Package(
    name: "hummingbird-app",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Warren itself (this repository): the app links WarrenClient alone.
        .package(name: "Warren", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        .executableTarget(
            name: "HummingbirdApp",
            dependencies: [
                .product(name: "WarrenClient", package: "Warren"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
