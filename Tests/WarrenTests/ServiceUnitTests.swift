import Foundation
import Testing

@testable import Warren

/// `systemd-analyze` (Debian package `systemd`), to check unit files offline. No systemd needs to
/// run: `verify` loads the unit and its dependencies from the unit search path.
enum SystemdAnalyze {
    static let environment = ProcessInfo.processInfo.environment
    /// Set by `scripts/test` and CI: a missing `systemd-analyze` fails the tests instead of skipping them.
    static var required: Bool { environment["WARREN_TEST_REQUIRE_BROKER"] == "1" }

    /// The executable on `PATH` (or in /usr/bin, /bin), or `nil`.
    static let path: String? = {
        let dirs = (environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/bin"]
        return dirs.map { $0 + "/systemd-analyze" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Whether the tests that need it run: it is installed, or it is required (and they fail).
    static var enabled: Bool { path != nil || required }
    static let skipReason: Comment =
        "needs systemd-analyze (Debian package systemd); with WARREN_TEST_REQUIRE_BROKER=1 this fails instead"

    /// `systemd-analyze verify FILE`: its exit status and everything it printed.
    static func verify(_ unitFile: String) async throws -> ToolResult {
        let path = try #require(path, "systemd-analyze not found: apt-get install systemd")
        return try await ToolResult.run(path, ["verify", unitFile])
    }
}

/// A finished command: exit status, and stdout and stderr together.
struct ToolResult: Sendable {
    var status: Int32
    var output: String

    /// Runs a command to completion, off the cooperative thread pool.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> ToolResult {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        let process = Process()
                        process.executableURL = URL(fileURLWithPath: executable)
                        process.arguments = arguments
                        if let environment { process.environment = environment }
                        let pipe = Pipe()
                        process.standardOutput = pipe
                        process.standardError = pipe
                        try process.run()
                        let data = pipe.fileHandleForReading.readDataToEndOfFile()
                        process.waitUntilExit()
                        return ToolResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
                    })
            }
        }
    }
}

/// A unit file's `Key=Value` settings by section (comments and blank lines left out). Enough for
/// the simple unit files here: no line continuations.
struct UnitFile {
    var settings: [String: [String: [String]]] = [:]

    init(contentsOf path: String) throws {
        var section = ""
        for raw in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            settings[section, default: [:]][key, default: []].append(value)
        }
    }

    /// The last value of `key` in `section` (the one systemd uses for single-valued settings).
    func value(_ section: String, _ key: String) -> String? { settings[section]?[key]?.last }
}

@Suite("Config/warren.service and scripts/install-service")
struct ServiceUnitTests {
    /// The repository root, found from this file's path.
    static let repo: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)  // Tests/WarrenTests/ServiceUnitTests.swift
        return components.joined(separator: "/")
    }()
    static let unitPath = repo + "/Config/warren.service"

    /// The `warren-demo` built next to the test bundle (`swift build --build-tests` builds it), or
    /// `WARREN_DEMO_BIN`.
    static var demoBinary: String? {
        if let p = ProcessInfo.processInfo.environment["WARREN_DEMO_BIN"] { return p }
        let p = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("warren-demo").path
        return FileManager.default.isExecutableFile(atPath: p) ? p : nil
    }

    /// An executable that exists, for `ExecStart=` in units that are only verified: warren-demo if
    /// it is built, else the test runner itself.
    static var someExecutable: String { demoBinary ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("warren-unit-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes a copy of `unit` named warren.service into `dir`, with its `ExecStart=` binary
    /// replaced by `binary`, and returns its path. `systemd-analyze verify` fails on a unit
    /// whose ExecStart binary does not exist ("Command ... is not executable"), and the real
    /// one (/usr/local/bin/warren-demo) is not installed where tests run.
    static func copy(of unit: String, into dir: String, execStart binary: String) throws -> String {
        let text = try String(contentsOfFile: unit, encoding: .utf8)
        var replaced = 0
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("ExecStart=") else { return String(line) }
            replaced += 1
            let arguments = line.dropFirst("ExecStart=".count).split(separator: " ", maxSplits: 1).dropFirst()
            return (["ExecStart=" + binary] + arguments.map(String.init)).joined(separator: " ")
        }
        #expect(replaced == 1, "one ExecStart= in \(unit)")
        let path = dir + "/warren.service"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("has the directives DESIGN section 9 requires")
    func directives() throws {
        let unit = try UnitFile(contentsOf: Self.unitPath)
        let expected: [(String, String, String)] = [
            ("Service", "Type", "notify"),
            ("Service", "NotifyAccess", "main"),
            ("Service", "ExecStart", "/usr/local/bin/warren-demo run --config /etc/warren/warren.yaml"),
            ("Service", "ExecReload", "/bin/kill -HUP $MAINPID"),
            ("Service", "KillMode", "mixed"),
            ("Service", "KillSignal", "SIGTERM"),
            ("Service", "Restart", "on-failure"),
            ("Service", "RestartPreventExitStatus", "78"),
            ("Service", "WatchdogSec", "30"),
            ("Service", "EnvironmentFile", "-/etc/warren/warren.env"),
            ("Service", "DynamicUser", "yes"),
            ("Service", "NoNewPrivileges", "yes"),
            ("Service", "ProtectSystem", "strict"),
            ("Service", "ProtectHome", "yes"),
            ("Service", "PrivateTmp", "yes"),
            ("Service", "MemoryDenyWriteExecute", "yes"),
            ("Service", "CapabilityBoundingSet", ""),
            ("Service", "RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
            ("Service", "StandardError", "journal"),
            ("Service", "SyslogIdentifier", "warren"),
            ("Install", "WantedBy", "multi-user.target"),
        ]
        for (section, key, value) in expected {
            #expect(unit.value(section, key) == value, "[\(section)] \(key)=")
        }
    }

    @Test("TimeoutStopSec covers the example config's warm shutdown, with a margin")
    func stopTimeout() throws {
        let unit = try UnitFile(contentsOf: Self.unitPath)
        let text = try #require(unit.value("Service", "TimeoutStopSec"))
        let seconds = try #require(Int(text.hasSuffix("s") ? String(text.dropLast()) : text), "TimeoutStopSec=\(text) in seconds")
        let config = try ConfigLoader.load(path: Self.repo + "/Config/warren.yaml", environment: [:])
        #expect(Duration.seconds(seconds) >= config.shutdownTimeout + .seconds(15))
        // The watchdog is fed every WatchdogSec/2 by the supervisor; it must exceed a few seconds.
        #expect((Int(unit.value("Service", "WatchdogSec") ?? "") ?? 0) >= 10)
    }

    @Test("passes systemd-analyze verify", .enabled(if: SystemdAnalyze.enabled, SystemdAnalyze.skipReason))
    func verify() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let unit = try Self.copy(of: Self.unitPath, into: dir, execStart: Self.someExecutable)
        let result = try await SystemdAnalyze.verify(unit)
        // verify exits 0 even after "Unknown key ..., ignoring" or a value it cannot parse, so
        // any output at all is a failure.
        #expect(result.status == 0 && result.output.isEmpty, "systemd-analyze verify \(unit):\n\(result.output)")
    }

    @Test("systemd-analyze verify catches a broken unit", .enabled(if: SystemdAnalyze.enabled, SystemdAnalyze.skipReason))
    func verifyCatchesMistakes() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let unit = try Self.copy(of: Self.unitPath, into: dir, execStart: Self.someExecutable)
        let broken = try String(contentsOfFile: unit, encoding: .utf8)
            .replacingOccurrences(of: "ProtectSystem=strict", with: "ProtectSystem=very")
            .replacingOccurrences(of: "KillMode=mixed", with: "KillMode=mixed\nKilMode=process")
        try broken.write(toFile: unit, atomically: true, encoding: .utf8)
        let result = try await SystemdAnalyze.verify(unit)
        #expect(result.output.contains("KilMode"), "\(result.output)")
        #expect(result.output.contains("very"), "\(result.output)")

        // And a missing ExecStart binary, which is why the other tests verify a copy.
        let missing = try Self.copy(of: Self.unitPath, into: dir, execStart: dir + "/no-such-binary")
        let missingResult = try await SystemdAnalyze.verify(missing)
        #expect(missingResult.status != 0)
        #expect(missingResult.output.contains("is not executable"), "\(missingResult.output)")
    }

    @Test(
        "scripts/install-service --root stages binary, config, env file and unit",
        .enabled(if: ServiceUnitTests.demoBinary != nil, "needs warren-demo next to the tests: swift build --build-tests"))
    func installServiceIntoRoot() async throws {
        let binary = try #require(Self.demoBinary)
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let script = Self.repo + "/scripts/install-service"
        let arguments = [script, "--root", root, "--binary", binary, "--prefix", "/opt/warren", "--config-dir", "/etc/warren-test"]

        let first = try await ToolResult.run("/bin/bash", arguments)
        #expect(first.status == 0, "\(first.output)")
        let fm = FileManager.default
        func mode(_ path: String) throws -> Int {
            try #require(fm.attributesOfItem(atPath: root + path)[.posixPermissions] as? Int)
        }
        #expect(try mode("/opt/warren/bin/warren-demo") == 0o755)
        #expect(try mode("/etc/warren-test/warren.yaml") == 0o644)
        #expect(try mode("/etc/warren-test/warren.env") == 0o600)
        #expect(try mode("/etc/systemd/system/warren.service") == 0o644)
        #expect(!fm.fileExists(atPath: root + "/etc/warren-test/warren.yaml.new"))

        // The unit names the final paths, not the staging root.
        let unit = try UnitFile(contentsOf: root + "/etc/systemd/system/warren.service")
        #expect(unit.value("Service", "ExecStart") == "/opt/warren/bin/warren-demo run --config /etc/warren-test/warren.yaml")
        #expect(unit.value("Service", "EnvironmentFile") == "-/etc/warren-test/warren.env")

        // A second run keeps the config and the env file the operator may have edited.
        try "# edited\n".write(toFile: root + "/etc/warren-test/warren.env", atomically: false, encoding: .utf8)
        let yaml = try String(contentsOfFile: root + "/etc/warren-test/warren.yaml", encoding: .utf8) + "# edited\n"
        try yaml.write(toFile: root + "/etc/warren-test/warren.yaml", atomically: false, encoding: .utf8)
        let second = try await ToolResult.run("/bin/bash", arguments)
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("warren.yaml.new"), "\(second.output)")
        #expect(try String(contentsOfFile: root + "/etc/warren-test/warren.env", encoding: .utf8) == "# edited\n")
        #expect(try String(contentsOfFile: root + "/etc/warren-test/warren.yaml", encoding: .utf8) == yaml)
        #expect(fm.fileExists(atPath: root + "/etc/warren-test/warren.yaml.new"))

        // The installed unit verifies, run from the staged binary.
        if SystemdAnalyze.enabled {
            let dir = try Self.temporaryDirectory()
            defer { try? fm.removeItem(atPath: dir) }
            let copy = try Self.copy(
                of: root + "/etc/systemd/system/warren.service", into: dir, execStart: root + "/opt/warren/bin/warren-demo")
            let result = try await SystemdAnalyze.verify(copy)
            #expect(result.status == 0 && result.output.isEmpty, "systemd-analyze verify \(copy):\n\(result.output)")
        }
    }

    @Test("scripts/install-service --dry-run changes nothing")
    func installServiceDryRun() async throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let result = try await ToolResult.run(
            "/bin/bash", [Self.repo + "/scripts/install-service", "--dry-run", "--root", root, "--binary", "/nonexistent/my-worker"])
        #expect(result.status == 0, "\(result.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty)
        #expect(result.output.contains("would run: install -m 0755 /nonexistent/my-worker \(root)/usr/local/bin/my-worker"), "\(result.output)")
        #expect(result.output.contains("ExecStart=/usr/local/bin/my-worker run --config /etc/warren/warren.yaml"), "\(result.output)")
    }
}
