/* sipua.h - the endpoint's SIP user agent (RFC 3261): REGISTER with digest and refresh,
 * one call at a time in or out (INVITE/ACK/BYE/CANCEL), SDP offer/answer, RTP.
 *
 * The UA does not own its transport: it sends through a callback and is handed one framed
 * message at a time (sipua_input), so TCP, TLS, UDP and a TeamLink SIP channel look the same
 * to it. Media goes through hooks so the caller can route RTP directly or through the tunnel.
 */
#ifndef EP_SIPUA_H
#define EP_SIPUA_H

#include <stddef.h>

struct evloop;
struct status;
struct rtp;
struct sipua;

struct sipua_conf {
	const char *aor; /* sip:alice@librestream.com */
	const char *display;
	const char *auth_user;
	const char *auth_password;
	unsigned expires; /* requested registration lifetime, s */
	const char *transport; /* "udp" | "tcp" | "tls": Via and Contact */
	const char *server_host; /* the registrar (for status lines) */
	unsigned server_port;
	const char *path; /* "direct" | "teamlink" (for status lines) */
	const char *local_host; /* our address as the server sees the socket (Via, Contact, SDP) */
	unsigned local_port;
	unsigned port_min, port_max; /* media range */
	int media_ports; /* enum rtp_ports: where the RTP pair is bound (faults move it) */
	int no_rtp; /* fault no-rtp: calls are set up but no RTP/RTCP is ever sent */
	int auto_answer;
	unsigned timeout_ms; /* transaction timeout (no final response) */
};

struct sipua_hooks {
	/* Sends one whole message; 0 or an errno. */
	int (*send)(void *arg, const char *buf, size_t len);
	/* Routes media of a new call: the hook calls rtp_start (direct) or sets a sender and
	 * feeds rtp_input (tunnel). 0 or an errno. */
	int (*media_open)(void *arg, struct rtp *r, const char *host, unsigned port);
	/* The call's media is going away (undo what media_open set up). */
	void (*media_close)(void *arg, struct rtp *r);
	/* Registration outcome: ok=1 registered (or refreshed), 0 failed (reason given). */
	void (*reg_result)(void *arg, int ok, const char *reason);
	/* Optional: sends a message of the outgoing call (INVITE, ACK, CANCEL, BYE and our
	 * answers in that dialog) instead of send: another flow than the registration's
	 * (fault call-out-wrong-server). NULL: everything goes through send. */
	int (*call_send)(void *arg, const char *buf, size_t len);
	void *arg;
};

int sipua_alloc(struct sipua **up, struct evloop *loop, struct status *st,
                const struct sipua_conf *conf, const struct sipua_hooks *hooks)
        __attribute__((warn_unused_result));
/* Ends a call if any (BYE), frees everything. NULL is a no-op. */
void sipua_free(struct sipua *ua);

/* Sends REGISTER (the UA answers challenges and refreshes at 3/4 of the granted lifetime). */
int sipua_register(struct sipua *ua) __attribute__((warn_unused_result));
/* Sends REGISTER with Expires: 0. */
int sipua_unregister(struct sipua *ua);
int sipua_registered(const struct sipua *ua);
/* Places a call to uri; fails with EBUSY while a call exists. */
int sipua_call(struct sipua *ua, const char *uri) __attribute__((warn_unused_result));
/* Ends the current call (BYE, or CANCEL while ringing out). */
void sipua_hangup(struct sipua *ua);
int sipua_in_call(const struct sipua *ua);

/* One framed SIP message from the transport. Malformed input is counted and dropped;
 * returns 0 or the parse error (never fatal). */
int sipua_input(struct sipua *ua, const char *buf, size_t len);
/* Call-IDs of the registration and of the current call ("" if none): tests, fuzzer. */
const char *sipua_reg_call_id(const struct sipua *ua);
const char *sipua_call_id(const struct sipua *ua);
/* Messages dropped as malformed so far. */
unsigned long sipua_bad_messages(const struct sipua *ua);

#endif
