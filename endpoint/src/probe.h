/* probe.h - the short tests Firewall Detect and the private-server choice are made of
 * (note §4, §5.3). Each one is bounded by its timeout and says why it failed. */
#ifndef EP_PROBE_H
#define EP_PROBE_H

#include <openssl/ssl.h>
#include <stddef.h>

/* Sends SIP OPTIONS to host:port over transport "tcp", "tls" (ctx needed) or "udp" and
 * waits for any SIP response (a server that answers, even with an error, is reachable).
 * Returns 0 and the status code in *status, or an errno with reason set. */
int probe_sip_options(const char *host, unsigned port, const char *transport, SSL_CTX *ctx,
                      unsigned timeout_ms, int *status, char *reason, size_t rlen);
/* Writes an OPTIONS request for host:port sent from local_host:local_port; returns its
 * length or -1 when cap is too small. */
int probe_build_options(char *buf, size_t cap, const char *host, unsigned port,
                        const char *transport, const char *local_host, unsigned local_port);
/* STUN Binding request (RFC 5389 §7.1) to host:port over UDP; 0 when a Binding success
 * response with our transaction id comes back. mapped gets XOR-MAPPED-ADDRESS as text. */
int probe_stun(const char *host, unsigned port, unsigned timeout_ms, char *mapped, size_t mlen,
               char *reason, size_t rlen);

#endif
