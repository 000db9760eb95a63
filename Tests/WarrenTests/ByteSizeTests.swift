import Testing

@testable import Warren
@testable import WarrenClient
@testable import WarrenCore
@testable import WarrenRuntime

@Suite("Human-readable sizes")
struct ByteSizeTests {
    @Test(
        "reads binary and decimal units and bare bytes",
        arguments: [
            ("64MiB", 64 << 20),
            ("2GiB", 2 << 30),
            ("512KiB", 512 << 10),
            ("1TiB", 1 << 40),
            ("1024B", 1_024),
            ("1024", 1_024),
            ("0", 0),
            ("1KB", 1_000),
            ("16MB", 16_000_000),
            ("2GB", 2_000_000_000),
            ("1.5GiB", 3 << 29),
            ("0.5KiB", 512),
            ("64mib", 64 << 20),
            ("10kb", 10_000),
        ] as [(String, Int)])
    func reads(text: String, bytes: Int) {
        #expect(ByteSize(humanReadable: text) == ByteSize(bytes: bytes))
    }

    @Test(
        "refuses what is not a size",
        arguments: [
            ("64M", "\"M\" is ambiguous; write MiB (powers of 1024) or MB (powers of 1000)"),
            ("1k", "\"k\" is ambiguous; write KiB (powers of 1024) or KB (powers of 1000)"),
            ("12 MiB", "write it without spaces, like 64MiB"),
            ("1PiB", "unknown unit \"PiB\"; use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB"),
            ("1.5B", "not a whole number of bytes"),
            ("-1MiB", "a size cannot be negative"),
            ("lots", nil),
            ("", nil),
            ("99999999999TiB", "too large"),
        ] as [(String, String?)])
    func refuses(text: String, detail: String?) {
        #expect(ByteSize(humanReadable: text) == nil)
        guard case .failure(let failure) = ByteSize.parse(text) else {
            Issue.record("\(text) was accepted")
            return
        }
        #expect(failure.detail == detail)
    }

    @Test(
        "prints the largest exact unit, binary first",
        arguments: [
            (ByteSize.mebibytes(512), "512MiB"),
            (.gibibytes(2), "2GiB"),
            (ByteSize(bytes: 3 << 29), "1536MiB"),
            (ByteSize(bytes: 1_000_000), "1MB"),
            (ByteSize(bytes: 1_000), "1KB"),
            (ByteSize(bytes: 1_023), "1023B"),
            (ByteSize(bytes: 0), "0B"),
        ])
    func prints(size: ByteSize, expected: String) {
        #expect(size.description == expected)
        #expect(ByteSize(humanReadable: size.description) == size)
    }
}
