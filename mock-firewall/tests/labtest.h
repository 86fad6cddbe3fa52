/* labtest.h - real traffic inside a lab for the tests: probes run in-process on sockets made
 * inside a namespace (netns_socket), listeners run as fwlab-echo spawned through the lab. */
#ifndef FWLAB_LABTEST_H
#define FWLAB_LABTEST_H

#include "fwlab.h"

#include <stddef.h>

#define LT_SKIP 77 /* CTest SKIP_RETURN_CODE */

/* Exits with LT_SKIP and "SKIPPED: reason" if the lab cannot run here. */
void lt_require_lab(void);
/* A prefix unique to this process and n ("ft<pid>x<n>"). */
void lt_prefix(char *buf, size_t len, int n);
/* Removes every lab whose prefix starts with "ft<pid of the runner>" (atexit + after each
 * test), so a failing test never leaves a lab behind. */
void lt_cleanup_own(void);
void lt_set_runner_pid(void);

/* Starts fwlab-echo in role with the given "tcp:P"/"udp:P" specs; waits for "ready". */
int lt_listen(struct fwlab *l, const char *role, const char *const *specs, size_t n);

/* Each returns 0 on success, else an errno (ETIMEDOUT when nothing answered). */
int lt_tcp(const char *nspath, const char *addr, int port, int timeout_ms);
int lt_udp(const char *nspath, const char *addr, int port, int timeout_ms);
/* DNS query type 1 (A) or 33 (SRV) to server; 0 if the answer has at least one record. */
int lt_dns(const char *nspath, const char *server, const char *name, int qtype, int timeout_ms);
/* CONNECT host:port through the proxy at paddr:pport; the HTTP status, or 0 if none came. */
int lt_connect(const char *nspath, const char *paddr, int pport, const char *target,
               int timeout_ms);
/* Sends bytes over TCP and waits until the receiver closed: elapsed ms, or -errno. */
long lt_bulk(const char *nspath, const char *addr, int port, size_t bytes, int timeout_ms);

#endif
