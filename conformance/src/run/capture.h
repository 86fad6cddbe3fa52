/* capture.h - packet capture on one lab link, in its own process.
 *
 * The capture process enters the link's network namespace (setns) before pcap_activate, so
 * its socket stays bound to that namespace, and writes classic pcap (libpcap writes nothing
 * else) until SIGTERM; the runner converts the file to pcapng with the TLS key logs embedded
 * afterwards. One process per link: a slow disk on one link never stalls another.
 */
#ifndef CONFORM_CAPTURE_H
#define CONFORM_CAPTURE_H

#include <sys/types.h>

struct capture;

/* Starts capturing in the namespace netns_path on the interface named iface, or when iface
 * starts with "addr:" on the interface holding that IPv4 address. Returns when the capture
 * is active (so nothing sent after it returns is missed), or an errno with the reason in err. */
int capture_start(struct capture **cp, const char *name, const char *netns_path, const char *iface,
                  const char *pcap_path, char *err, size_t errlen)
        __attribute__((warn_unused_result));
/* Stops the capture (SIGTERM, the file is flushed and closed) and frees c; returns the
 * number of packets written, or -1 if the process failed. NULL is a no-op (returns 0). */
long capture_stop(struct capture *c, char *err, size_t errlen);
pid_t capture_pid(const struct capture *c);
const char *capture_name(const struct capture *c);
const char *capture_path(const struct capture *c);

/* The capture process body (exposed for tests): runs until *stop is set. */
int capture_run(const char *netns_path, const char *iface, const char *pcap_path, int ready_fd,
                volatile int *stop);

#endif
