#ifndef CWARRENSYSTEM_H
#define CWARRENSYSTEM_H

#include <sys/types.h>

/// Spawns `path` with `argv`/`envp` for a Warren child process, with everything that must be
/// set between fork and exec done by posix_spawn itself (never a bare fork of a multithreaded
/// Swift process):
/// - an empty signal mask and default dispositions for every signal (Swift's pool threads block
///   most signals, and a child would otherwise inherit SIGTERM blocked);
/// - its own process group, so a terminal's Ctrl-C reaches only the supervisor, which then
///   stops the children once, warmly;
/// - `status_fd` as fd 3 (child -> supervisor) and `control_fd` as fd 0 (supervisor -> child);
///   `config_fd`, unless it is -1, as fd 4; every other descriptor above those closed.
/// Returns the pid, or -1 with the error number in `*error`.
pid_t cws_spawn(const char *path, char *const argv[], char *const envp[], int status_fd, int control_fd, int config_fd, int *error);

/// A close-on-exec memory file holding `bytes`, sealed against any change (memfd_create with
/// F_SEAL_WRITE, GROW, SHRINK and SEAL). Returns the descriptor, or -1 with errno set.
int cws_sealed_memfd(const char *name, const void *bytes, size_t count);

/// Asks the kernel to send `signal` to this process when its parent dies (prctl
/// PR_SET_PDEATHSIG). Returns 0, or -1 with errno set.
///
/// The setting belongs to the calling *thread*, not the process: the kernel looks at each
/// thread of the child when the parent exits, and a thread that has exited takes its setting
/// with it. Call it from a thread that lives as long as the process (see `Lifeline`).
int cws_set_parent_death_signal(int signal);

/// pipe2(fds, O_CLOEXEC): a pipe whose ends do not leak into other children (pipe2 needs
/// _GNU_SOURCE, which the Glibc module lacks). Returns 0, or -1 with errno set.
int cws_pipe_cloexec(int fds[2]);

/// Asks for a pipe buffer of `bytes` (fcntl F_SETPIPE_SZ; Linux caps it at
/// /proc/sys/fs/pipe-max-size, 1 MiB by default). Returns the new size, or -1 with errno set.
int cws_grow_pipe(int fd, int bytes);

/// 1 when child `pid` has ended (a zombie not yet reaped, or already reaped), 0 while it runs.
/// It does not reap it (waitid with WNOWAIT): the thread that waits for its exit status still can.
int cws_child_has_ended(pid_t pid);

/// Peak resident set size of this process in bytes (VmHWM in /proc/self/status), or -1.
long cws_peak_resident_bytes(void);

/// Lets malloc keep up to `bytes` of freed memory at the top of each heap instead of returning
/// it to the kernel (mallopt M_TRIM_THRESHOLD). glibc's default (128 KiB) made a busy child give
/// pages back and fault them in again many times a second. Returns 1 on success.
int cws_keep_freed_heap(int bytes);

#endif
