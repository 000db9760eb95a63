#define _GNU_SOURCE
#include "CWarrenSystem.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t cws_spawn_clear(const char *path, char *const argv[], char *const envp[], int status_fd, int control_fd, int config_fd, int *error);

/* A source descriptor that is also a target of the dup2 actions (0, 3 or 4) would be
 * overwritten by an earlier action, or keep its close-on-exec flag (dup2 onto itself changes
 * nothing): a supervisor started with 3 free put its config's memfd at 3, and its children
 * read their report pipe as their config. Such a descriptor is copied above 4 first. */
static int clear_of_targets(int fd, int *copy) {
    *copy = -1;
    if (fd < 0 || fd > 4) return fd;
    *copy = fcntl(fd, F_DUPFD_CLOEXEC, 5);
    return *copy;
}

pid_t cws_spawn(const char *path, char *const argv[], char *const envp[], int status_fd, int control_fd, int config_fd, int *error) {
    int copies[3];
    status_fd = clear_of_targets(status_fd, &copies[0]);
    control_fd = clear_of_targets(control_fd, &copies[1]);
    config_fd = config_fd < 0 ? -1 : clear_of_targets(config_fd, &copies[2]);
    pid_t pid = cws_spawn_clear(path, argv, envp, status_fd, control_fd, config_fd, error);
    for (int i = 0; i < 3; i++) if (copies[i] >= 0) close(copies[i]);
    return pid;
}

static pid_t cws_spawn_clear(const char *path, char *const argv[], char *const envp[], int status_fd, int control_fd, int config_fd, int *error) {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    sigset_t empty, all;
    pid_t pid = -1;
    int rc;
    if (status_fd < 0 || control_fd < 0) { *error = errno; return -1; }

    sigemptyset(&empty);
    sigfillset(&all);
    if ((rc = posix_spawnattr_init(&attr)) != 0) { *error = rc; return -1; }
    if ((rc = posix_spawn_file_actions_init(&actions)) != 0) {
        posix_spawnattr_destroy(&attr);
        *error = rc;
        return -1;
    }
    rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    if (rc == 0) rc = posix_spawnattr_setsigmask(&attr, &empty);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr, &all);
    if (rc == 0) rc = posix_spawnattr_setpgroup(&attr, 0);
    /* dup2 clears close-on-exec on the target; the sources keep theirs and vanish at exec. */
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, status_fd, 3);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, control_fd, 0);
    if (rc == 0 && config_fd >= 0) rc = posix_spawn_file_actions_adddup2(&actions, config_fd, 4);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions, config_fd >= 0 ? 5 : 4);
#endif
    if (rc == 0) rc = posix_spawn(&pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        *error = rc;
        return -1;
    }
    return pid;
}

int cws_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0);
}

int cws_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

long cws_peak_resident_bytes(void) {
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    }
    fclose(f);
    return kib < 0 ? -1 : kib * 1024;
}

int cws_child_has_ended(pid_t pid) {
    siginfo_t info = {0};
    int rc;
    do {
        rc = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) return errno == ECHILD ? 1 : 0;  /* ECHILD: reaped already */
    return info.si_pid == pid ? 1 : 0;
}

int cws_keep_freed_heap(int bytes) {
    return mallopt(M_TRIM_THRESHOLD, bytes);
}

int cws_grow_pipe(int fd, int bytes) {
    return fcntl(fd, F_SETPIPE_SZ, bytes);
}

int cws_sealed_memfd(const char *name, const void *bytes, size_t count) {
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -1;
    size_t done = 0;
    while (done < count) {
        ssize_t n = write(fd, (const char *)bytes + done, count - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { int e = errno; close(fd); errno = e; return -1; }
        done += (size_t)n;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
        int e = errno; close(fd); errno = e; return -1;
    }
    return fd;
}
