/* sipmsg.h - SIP messages for the endpoint: libosip2 parses, we validate and extract into a
 * plain struct with capped fields, so the user agent never touches osip types.
 *
 * osip accepts a bare request line (rc 0) and ignores octets after Content-Length: callers
 * frame streams first (RFC 3261 §18.3) and sipmsg_parse refuses messages without the
 * mandatory headers (§8.1.1: Via, From, To, Call-ID, CSeq; Max-Forwards in requests).
 */
#ifndef EP_SIPMSG_H
#define EP_SIPMSG_H

#include <stddef.h>

#define SIPMSG_MAX 65535 /* largest message accepted */
#define SIPMSG_MAX_VIA 8

struct sipmsg {
	int is_request;
	char method[24]; /* request method */
	char ruri[256]; /* request URI */
	int status; /* response status */
	char reason[64];
	char call_id[256];
	unsigned long cseq;
	char cseq_method[24];
	char from[512]; /* whole From header value as osip prints it */
	char from_tag[128];
	char from_uri[256];
	char to[512];
	char to_tag[128];
	char via[SIPMSG_MAX_VIA][512]; /* Via header values in order */
	int nvia;
	char contact_uri[256];
	int expires; /* Contact expires param or Expires header; -1: none */
	char challenge[1024]; /* WWW-Authenticate or Proxy-Authenticate value */
	int challenge_proxy; /* 1: Proxy-Authenticate (answer with Proxy-Authorization) */
	char content_type[64];
	char body[8192];
	size_t bodylen;
};

/* Initialises the osip parser once per process (idempotent) and routes its traces away
 * from stdout, which carries our status lines. */
void sipmsg_init(void);
/* Parses one framed message. Returns 0, EINVAL (malformed or a mandatory header missing),
 * E2BIG (over SIPMSG_MAX or a field over its cap). */
int sipmsg_parse(struct sipmsg *m, const char *buf, size_t len) __attribute__((warn_unused_result));

/* Media description of an SDP body: first audio stream's connection address and port.
 * Returns 0 or EINVAL. */
int sdp_audio(const char *body, size_t len, char *addr, size_t addrlen, unsigned *port)
        __attribute__((warn_unused_result));

/* Random token of n hex characters (tags, branches, Call-IDs). */
void sip_random_token(char *out, size_t n);

#endif
