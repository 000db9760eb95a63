// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Warren",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "AMQP", targets: ["AMQP"]),
        // What a web app links to send tasks and await results: no supervisor, CLI or HTTP server.
        .library(name: "WarrenClient", targets: ["WarrenClient"]),
        // What a worker binary links: the runtime and its command line (re-exports the others).
        .library(name: "Warren", targets: ["Warren"]),
        .executable(name: "warren-demo", targets: ["WarrenDemo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        // HTTP for /metrics (the supervisor serves it, `status` scrapes it). NIO's HTTP/1 needs no
        // Foundation networking (libcurl and its two dozen libraries would load in every child).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        // `swift package generate-documentation --target WarrenClient` (the DocC catalogs).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
        // WarrenClient is a Service of the application's ServiceGroup.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // W3C trace context across the broker: senders inject it, children run handlers in spans.
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.1.0"),
    ],
    targets: [
        // The C API of librabbitmq (Debian: librabbitmq-dev), plus static inline shims.
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        // glibc bits Swift cannot call or must not do itself: posix_spawn attributes, prctl.
        .target(name: "CWarrenSystem"),
        // A thin, safe Swift wrapper over librabbitmq. Knows nothing about tasks.
        .target(name: "AMQP", dependencies: ["CRabbitMQ"]),
        // The wire contract shared by senders and workers: the Celery v2 envelope, JSON values,
        // results, routing-key rules, the YAML config model and loader.
        .target(
            name: "WarrenCore",
            dependencies: [
                "AMQP",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ]
        ),
        // Publishing and results for applications.
        .target(
            name: "WarrenClient",
            dependencies: [
                "AMQP",
                "WarrenCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ]
        ),
        // The runtime: task registry, child worker loop, supervisor, topology, dead letters,
        // metrics and status.
        .target(
            name: "WarrenRuntime",
            dependencies: [
                "AMQP",
                "WarrenCore",
                "WarrenClient",
                "CWarrenSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The command line every worker binary gets (`worker.main()`); re-exports the layers
        // below, so `import Warren` is all a worker needs.
        .target(
            name: "Warren",
            dependencies: [
                "AMQP",
                "WarrenCore",
                "WarrenClient",
                "WarrenRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The demo worker binary used by the README, the tests and the benchmarks.
        .executableTarget(name: "WarrenDemo", dependencies: ["Warren"]),
        // The Swift side of scripts/bench (the C reference lives in bench/c/).
        .executableTarget(name: "AMQPBench", dependencies: ["AMQP", "Warren"], path: "bench/swift"),
        .testTarget(name: "AMQPTests", dependencies: ["AMQP", "WarrenTestSupport"]),
        .testTarget(
            name: "WarrenTests",
            dependencies: [
                "Warren", "WarrenCore", "WarrenClient", "WarrenRuntime", "WarrenTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]),
        // Against a real broker and the real warren-demo binary (built with the tests).
        .testTarget(
            name: "WarrenIntegrationTests",
            dependencies: [
                "Warren", "WarrenCore", "WarrenClient", "WarrenRuntime", "AMQP", "WarrenTestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]),
        // Stand-ins shared by the test targets (a systemd notification socket, rabbitmqctl),
        // and a W3C trace-context propagator and in-memory tracer for the tracing tests.
        .target(
            name: "WarrenTestSupport",
            dependencies: [
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            path: "Tests/WarrenTestSupport"),
    ],
    swiftLanguageModes: [.v6]
)
