/* sys.h - process and file helpers of the lab: running tools, finding and stopping
 * processes, removing what the lab wrote. */
#ifndef FWLAB_SYS_H
#define FWLAB_SYS_H

#include <stddef.h>
#include <sys/types.h>

/* Runs argv (in the namespace at nspath; NULL: here), feeding input (may be NULL) on stdin,
 * collecting stdout+stderr into out (may be NULL; truncated to outlen). Returns the exit status
 * (0..255), or -errno (-ETIMEDOUT after timeout_ms, the child then killed). */
int sys_run(const char *nspath, char *const argv[], const char *input, char *out, size_t outlen,
            int timeout_ms);

/* Start time of pid (clock ticks since boot, /proc/PID/stat field 22); 0 if it is gone. */
unsigned long long sys_proc_start(pid_t pid);
/* 1 if pid is alive (not a zombie) and started at start (0: any start time). */
int sys_proc_alive(pid_t pid, unsigned long long start);

/* Collects pids (at most cap) of processes whose network namespace has one of the inodes. */
size_t sys_procs_in_netns(const unsigned long long *inodes, size_t ninodes, pid_t *pids,
                          size_t cap);
/* TERM every pid, waits up to grace_ms for them all to exit (reaping our own children), then
 * KILL the rest and waits again. Returns the number still alive afterwards. */
size_t sys_stop(const pid_t *pids, size_t n, int grace_ms);

/* Writes text to path (mode 0644) in place: truncates and rewrites the same inode, so bind
 * mounts of the file (resolv.conf in running namespaces) see the change. */
int sys_write_file(const char *path, const char *text);
/* Removes the files in dir (not recursive) and dir itself; missing is fine. */
int sys_rmdir_files(const char *dir);
/* mkdir -p with mode. */
int sys_mkdirs(const char *path, mode_t mode);

/* Writes value to /proc/sys/KEY (dotted or slashed) inside the namespace at nspath. */
int sys_sysctl(const char *nspath, const char *key, const char *value);

#endif
