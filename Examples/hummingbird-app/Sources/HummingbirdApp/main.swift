import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import WarrenClient

/// The task the app sends, shared with the worker that runs it (warren-demo registers the same
/// definition: `worker.register(Add.self) { job, _ in job.a + job.b }`).
struct Add: TaskDefinition {
    static let name = "demo.add"
    static let argumentNames = ["a", "b"]
    typealias Result = Int
    var a: Int
    var b: Int
}

// Settings from the environment: the broker and exchange of the workers, and where to listen.
let environment = ProcessInfo.processInfo.environment
let brokerURL = environment["WARREN_BROKER_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F"
let exchange = environment["WARREN_EXCHANGE"] ?? "warren"
let host = environment["HOST"] ?? "127.0.0.1"
let port = Int(environment["PORT"] ?? "") ?? 8080

let logger = {
    var logger = Logger(label: "hummingbird-app")
    logger.logLevel = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    return logger
}()

let client = WarrenClient(configuration: try .init(url: brokerURL, exchange: exchange), logger: logger)

let router = Router()
// Does nothing: what the event loops answer when nothing else holds them.
router.get("/noop") { _, _ in "ok" }
// Sends demo.add and awaits its result, without blocking an event loop: the client's I/O runs
// on a thread of its own, the handler only suspends.
router.get("/add") { request, _ -> String in
    let a = try request.uri.queryParameters.require("a", as: Int.self)
    let b = try request.uri.queryParameters.require("b", as: Int.self)
    do {
        let sum = try await client.send(Add(a: a, b: b)).result(timeout: .seconds(30))
        return String(sum)
    } catch let failed as TaskFailed {
        throw HTTPError(.internalServerError, message: "\(failed.type): \(failed.message)")
    } catch let error as WarrenClientError {
        throw HTTPError(.serviceUnavailable, message: "\(error)")
    }
}

let app = Application(
    router: router,
    // 1,000 clients connect at once: a backlog that holds them all, not NIO's default 256.
    configuration: .init(address: .hostname(host, port: port), serverName: "warren-hummingbird-app", backlog: 4096),
    onServerRunning: { channel in
        logger.notice("listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
    },
    logger: logger
)

// One ServiceGroup: on SIGTERM (or SIGINT) the HTTP server stops first (it was started last),
// finishing the requests under way, then the client waits for the confirms under way and closes.
let group = ServiceGroup(
    configuration: .init(services: [client, app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
)
try await group.run()
logger.notice("stopped")
