import Foundation
import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

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

    /// `systemd-analyze security --offline=yes FILE`: the hardening report for a unit file, without a
    /// running systemd (systemd 250 or newer).
    static func security(_ unitFile: String) async throws -> ToolResult {
        let path = try #require(path, "systemd-analyze not found: apt-get install systemd")
        return try await ToolResult.run(path, ["security", "--offline=yes", "--no-pager", unitFile])
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

@Suite("Config/warren@.service and scripts/install-service")
struct ServiceUnitTests {
    /// The repository root, found from this file's path.
    static let repo: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)  // Tests/WarrenTests/ServiceUnitTests.swift
        return components.joined(separator: "/")
    }()
    static let unitPath = repo + "/Config/warren@.service"

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

    /// Writes a copy of the template `unit` named warren@.service into `dir`, with its `ExecStart=`
    /// binary replaced by `binary`, and returns the path of its instance `instance` (a file that
    /// does not exist: systemd-analyze loads it from the template beside it). `systemd-analyze
    /// verify` fails on a unit whose ExecStart binary does not exist ("Command ... is not
    /// executable"), and the real one (/usr/local/bin/<instance>) is not installed where tests run.
    /// `edit` changes the text first.
    static func copy(
        of unit: String, into dir: String, execStart binary: String, instance: String = "warren-demo",
        edit: (String) -> String = { $0 }
    ) throws -> String {
        let text = edit(try String(contentsOfFile: unit, encoding: .utf8))
        var replaced = 0
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("ExecStart=") else { return String(line) }
            replaced += 1
            let arguments = line.dropFirst("ExecStart=".count).split(separator: " ", maxSplits: 1).dropFirst()
            return (["ExecStart=" + binary] + arguments.map(String.init)).joined(separator: " ")
        }
        #expect(replaced == 1, "one ExecStart= in \(unit)")
        try lines.joined(separator: "\n").write(toFile: dir + "/warren@.service", atomically: true, encoding: .utf8)
        return dir + "/warren@\(instance).service"
    }

    /// The settings the unit ships commented out, as an operator would enable them.
    static let optionalSettings = [
        "LoadCredential=broker-password:/etc/warren/%i.password",
        "Environment=WARREN_BROKER_PASSWORD_FILE=%d/broker-password",
        "MemoryMax=4G", "OOMPolicy=continue", "TasksMax=512",
    ]

    /// `text` with ``optionalSettings`` uncommented.
    static func uncommentingOptionalSettings(_ text: String) -> String {
        optionalSettings.reduce(text) { $0.replacingOccurrences(of: "\n#" + $1 + "\n", with: "\n" + $1 + "\n") }
    }

    @Test("has the directives docs/systemd.md describes")
    func directives() throws {
        let unit = try UnitFile(contentsOf: Self.unitPath)
        let expected: [(String, String, String)] = [
            ("Service", "Type", "notify"),
            ("Service", "NotifyAccess", "main"),
            ("Service", "ExecStart", "/usr/local/bin/%i run --config /etc/warren/%i.yaml"),
            ("Service", "ExecReload", "/bin/kill -HUP $MAINPID"),
            ("Service", "KillMode", "mixed"),
            ("Service", "KillSignal", "SIGTERM"),
            ("Service", "Restart", "on-failure"),
            ("Service", "RestartPreventExitStatus", "78"),
            ("Service", "WatchdogSec", "30"),
            ("Service", "EnvironmentFile", "-/etc/warren/%i.env"),
            ("Service", "DynamicUser", "yes"),
            ("Service", "NoNewPrivileges", "yes"),
            ("Service", "ProtectSystem", "strict"),
            ("Service", "ProtectHome", "yes"),
            ("Service", "PrivateTmp", "yes"),
            ("Service", "MemoryDenyWriteExecute", "yes"),
            ("Service", "CapabilityBoundingSet", ""),
            ("Service", "RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
            ("Service", "SystemCallFilter", "@system-service"),
            ("Service", "SystemCallErrorNumber", "EPERM"),
            ("Service", "SystemCallArchitectures", "native"),
            ("Service", "ProtectProc", "invisible"),
            ("Service", "ProcSubset", "pid"),
            ("Service", "PrivateUsers", "yes"),
            ("Service", "StandardError", "journal"),
            ("Service", "SyslogIdentifier", "%i"),
            ("Install", "WantedBy", "multi-user.target"),
        ]
        for (section, key, value) in expected {
            #expect(unit.value(section, key) == value, "[\(section)] \(key)=")
        }
        // Limits and the password credential are the operator's choice: shipped commented out.
        for key in ["LoadCredential", "Environment", "MemoryMax", "OOMPolicy", "TasksMax"] {
            #expect(unit.value("Service", key) == nil, "\(key)= is commented out")
        }
        let text = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
        for setting in Self.optionalSettings {
            #expect(text.contains("\n#\(setting)\n"), "#\(setting) in the unit")
        }
    }

    @Test("is a template for any worker: the instance names the binary, config, env file and journal tag")
    func templateNamesNoWorker() throws {
        let unit = try UnitFile(contentsOf: Self.unitPath)
        let settings = unit.settings.values.flatMap { $0.values.flatMap { $0 } }
        // Nothing but comments may name the demo: its demo.alloc and demo.crash tasks must not
        // reach a production broker because an operator installed the unit as shipped.
        #expect(!settings.contains { $0.contains("demo") }, "\(settings)")
        for key in ["ExecStart", "EnvironmentFile", "SyslogIdentifier"] {
            #expect(unit.value("Service", key)?.contains("%i") == true, "\(key)= uses the instance name")
        }
        #expect(unit.value("Unit", "Description")?.contains("%i") == true)
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

    @Test(
        "passes systemd-analyze verify with the commented-out settings enabled",
        .enabled(if: SystemdAnalyze.enabled, SystemdAnalyze.skipReason))
    func verifyOptionalSettings() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let unit = try Self.copy(
            of: Self.unitPath, into: dir, execStart: Self.someExecutable, instance: "billing", edit: Self.uncommentingOptionalSettings)
        let parsed = try UnitFile(contentsOf: dir + "/warren@.service")
        #expect(parsed.value("Service", "Environment") == "WARREN_BROKER_PASSWORD_FILE=%d/broker-password")
        #expect(parsed.value("Service", "TasksMax") == "512")
        let result = try await SystemdAnalyze.verify(unit)
        #expect(result.status == 0 && result.output.isEmpty, "systemd-analyze verify \(unit):\n\(result.output)")
    }

    @Test(
        "systemd-analyze security rates the hardening: process, user and system-call restrictions on",
        .enabled(if: SystemdAnalyze.enabled, SystemdAnalyze.skipReason))
    func security() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let unit = try Self.copy(of: Self.unitPath, into: dir, execStart: Self.someExecutable)
        let result = try await SystemdAnalyze.security(unit)
        #expect(result.status == 0, "\(result.output)")
        let lines = result.output.split(separator: "\n").map(String.init)
        // Every check it fails is a line starting with ✗; these must pass.
        let failed = lines.filter { $0.hasPrefix("✗") }
        for setting in [
            "ProtectProc=", "ProcSubset=", "PrivateUsers=", "SystemCallFilter=~@", "SystemCallArchitectures=", "PrivateDevices=",
        ] {
            let relevant = failed.filter { $0.dropFirst(2).hasPrefix(setting) }
            // @system-service still allows @privileged and @resources (chown, setrlimit, ...).
            let unexpected = relevant.filter { !$0.contains("~@privileged") && !$0.contains("~@resources") }
            #expect(unexpected.isEmpty, "\(unexpected)")
        }
        // "→ Overall exposure level for warren@warren-demo.service: 1.5 OK": 10 is unprotected.
        let overall = try #require(lines.first { $0.contains("Overall exposure level") }, "\(result.output)")
        let score = try #require(overall.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(overall)")
        #expect(score <= 2.0, "\(overall)")
    }

    @Test(
        "a worker reads the broker password from the credential the unit names: check-config shows its path, never the password",
        .enabled(if: ServiceUnitTests.demoBinary != nil, "needs warren-demo next to the tests: swift build --build-tests"))
    func passwordCredential() async throws {
        let binary = try #require(Self.demoBinary)
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // What systemd sets up: $CREDENTIALS_DIRECTORY/broker-password, and the variable the
        // unit's Environment= line expands %d in.
        let credential = dir + "/broker-password"
        try "cred-s3cret\n".write(toFile: credential, atomically: true, encoding: .utf8)
        let config = dir + "/billing.yaml"
        try "broker: { url: amqp://app@rabbit/ }\nqueues: { q: { routes: [\"#\"] } }\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let environment = ["CREDENTIALS_DIRECTORY": dir, "WARREN_BROKER_PASSWORD_FILE": credential]

        let checked = try await ToolResult.run(binary, ["check-config", "--config", config], environment: environment)
        #expect(checked.status == 0, "\(checked.output)")
        #expect(checked.output.contains("amqp://app:****@rabbit/"), "\(checked.output)")
        #expect(checked.output.contains("password_file: \"\(credential)\""), "\(checked.output)")
        #expect(!checked.output.contains("s3cret"), "\(checked.output)")

        // A credential that is missing (LoadCredential= left commented out) is a config error: 78,
        // which RestartPreventExitStatus= does not restart in a loop.
        try FileManager.default.removeItem(atPath: credential)
        let missing = try await ToolResult.run(binary, ["check-config", "--config", config], environment: environment)
        #expect(missing.status == ConfigurationError.exitStatus, "\(missing.output)")
        #expect(
            missing.output.contains("environment: WARREN_BROKER_PASSWORD_FILE: cannot read the broker password from"), "\(missing.output)")
    }

    @Test("systemd-analyze verify catches a broken unit", .enabled(if: SystemdAnalyze.enabled, SystemdAnalyze.skipReason))
    func verifyCatchesMistakes() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let unit = try Self.copy(of: Self.unitPath, into: dir, execStart: Self.someExecutable) {
            $0.replacingOccurrences(of: "ProtectSystem=strict", with: "ProtectSystem=very")
                .replacingOccurrences(of: "KillMode=mixed", with: "KillMode=mixed\nKilMode=process")
        }
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
        "scripts/install-service --root stages binary, config, env file and template unit",
        .enabled(if: ServiceUnitTests.demoBinary != nil, "needs warren-demo next to the tests: swift build --build-tests"))
    func installServiceIntoRoot() async throws {
        let binary = try #require(Self.demoBinary)
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let script = Self.repo + "/scripts/install-service"
        let arguments = [script, "--root", root, "--binary", binary, "--prefix", "/opt/warren", "--config-dir", "/etc/warren-test"]

        let first = try await ToolResult.run("/bin/bash", arguments)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("warren@warren-demo"), "\(first.output)")
        let fm = FileManager.default
        func mode(_ path: String) throws -> Int {
            try #require(fm.attributesOfItem(atPath: root + path)[.posixPermissions] as? Int)
        }
        #expect(try mode("/opt/warren/bin/warren-demo") == 0o755)
        #expect(try mode("/etc/warren-test/warren-demo.yaml") == 0o644)
        #expect(try mode("/etc/warren-test/warren-demo.env") == 0o600)
        #expect(try mode("/etc/systemd/system/warren@.service") == 0o644)
        #expect(!fm.fileExists(atPath: root + "/etc/warren-test/warren-demo.yaml.new"))
        #expect(!fm.fileExists(atPath: root + "/etc/systemd/system/warren.service"))
        #expect(try String(contentsOfFile: root + "/etc/warren-test/warren-demo.env", encoding: .utf8).contains("warren-demo.yaml"))

        // The unit names the final directories, not the staging root, and no worker.
        let unitFile = root + "/etc/systemd/system/warren@.service"
        let unit = try UnitFile(contentsOf: unitFile)
        #expect(unit.value("Service", "ExecStart") == "/opt/warren/bin/%i run --config /etc/warren-test/%i.yaml")
        #expect(unit.value("Service", "EnvironmentFile") == "-/etc/warren-test/%i.env")
        #expect(
            try String(contentsOfFile: unitFile, encoding: .utf8).contains(
                "\n#LoadCredential=broker-password:/etc/warren-test/%i.password\n"))

        // A second run keeps the config and the env file the operator may have edited.
        try "# edited\n".write(toFile: root + "/etc/warren-test/warren-demo.env", atomically: false, encoding: .utf8)
        let yaml = try String(contentsOfFile: root + "/etc/warren-test/warren-demo.yaml", encoding: .utf8) + "# edited\n"
        try yaml.write(toFile: root + "/etc/warren-test/warren-demo.yaml", atomically: false, encoding: .utf8)
        let second = try await ToolResult.run("/bin/bash", arguments)
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("warren-demo.yaml.new"), "\(second.output)")
        #expect(try String(contentsOfFile: root + "/etc/warren-test/warren-demo.env", encoding: .utf8) == "# edited\n")
        #expect(try String(contentsOfFile: root + "/etc/warren-test/warren-demo.yaml", encoding: .utf8) == yaml)
        #expect(fm.fileExists(atPath: root + "/etc/warren-test/warren-demo.yaml.new"))

        // A second worker under its own name and config shares the unit; an older install's
        // warren.service is pointed out, not touched.
        let config = root + "/billing.yaml"
        try "queues: { billing: { routes: [\"billing.#\"] } }\n".write(toFile: config, atomically: false, encoding: .utf8)
        try "[Service]\nExecStart=/usr/local/bin/warren-demo run\n".write(
            toFile: root + "/etc/systemd/system/warren.service", atomically: false, encoding: .utf8)
        let third = try await ToolResult.run("/bin/bash", arguments + ["--name", "billing", "--config", config])
        #expect(third.status == 0, "\(third.output)")
        #expect(third.output.contains("warren@billing"), "\(third.output)")
        #expect(third.output.contains("warren.service (an older install)"), "\(third.output)")
        #expect(fm.isExecutableFile(atPath: root + "/opt/warren/bin/billing"))
        #expect(
            try String(contentsOfFile: root + "/etc/warren-test/billing.yaml", encoding: .utf8)
                == String(contentsOfFile: config, encoding: .utf8))
        #expect(fm.fileExists(atPath: root + "/etc/warren-test/billing.env"))
        #expect(fm.fileExists(atPath: root + "/etc/systemd/system/warren.service"))
        #expect(!fm.fileExists(atPath: root + "/etc/systemd/system/warren@.service.bak"), "the same unit: nothing to back up")

        // The installed unit verifies, for each instance, run from the staged binary.
        if SystemdAnalyze.enabled {
            for name in ["warren-demo", "billing"] {
                let dir = try Self.temporaryDirectory()
                defer { try? fm.removeItem(atPath: dir) }
                let copy = try Self.copy(of: unitFile, into: dir, execStart: root + "/opt/warren/bin/" + name, instance: name)
                let result = try await SystemdAnalyze.verify(copy)
                #expect(result.status == 0 && result.output.isEmpty, "systemd-analyze verify \(copy):\n\(result.output)")
            }
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
        #expect(
            result.output.contains("would run: install -m 0755 /nonexistent/my-worker \(root)/usr/local/bin/my-worker"), "\(result.output)")
        #expect(result.output.contains("/etc/warren/my-worker.yaml"), "\(result.output)")
        #expect(result.output.contains("ExecStart=/usr/local/bin/%i run --config /etc/warren/%i.yaml"), "\(result.output)")
        #expect(result.output.contains("warren@my-worker"), "\(result.output)")

        // --name renames the installed binary; a name systemd would escape is refused.
        let named = try await ToolResult.run(
            "/bin/bash",
            [Self.repo + "/scripts/install-service", "--dry-run", "--root", root, "--binary", "/nonexistent/my-worker", "--name", "mailer"])
        #expect(named.status == 0, "\(named.output)")
        #expect(named.output.contains("\(root)/usr/local/bin/mailer"), "\(named.output)")
        let bad = try await ToolResult.run(
            "/bin/bash", [Self.repo + "/scripts/install-service", "--dry-run", "--binary", "/nonexistent/w", "--name", "my worker"])
        #expect(bad.status == 1 && bad.output.contains("must be plain"), "\(bad.output)")
        let noConfig = try await ToolResult.run(
            "/bin/bash",
            [Self.repo + "/scripts/install-service", "--dry-run", "--binary", "/nonexistent/w", "--config", root + "/none.yaml"])
        #expect(noConfig.status == 1 && noConfig.output.contains("no such config file"), "\(noConfig.output)")
    }
}
