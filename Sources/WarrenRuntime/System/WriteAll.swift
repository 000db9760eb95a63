#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes the whole of `bytes` to `descriptor`, retrying after interruptions and short writes.
/// A pipe write of up to 4 KiB is atomic, so a line that fits is never interleaved with another
/// writer's. Gives up silently on an error (EPIPE: the reader is gone).
func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) {
    var offset = 0
    while offset < bytes.count {
        let n = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}
