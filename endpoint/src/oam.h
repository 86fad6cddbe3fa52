/* oam.h - login and configuration fetch against the Onsight Account Manager
 * (docs/protocol/oam.md), and the TCM assignment (docs/protocol/teamlink.md §9). All
 * requests are HTTPS with certificate and host-name verification, through the web proxy with
 * CONNECT when one is given; blocking, bounded by timeout_ms. */
#ifndef EP_OAM_H
#define EP_OAM_H

#include <openssl/ssl.h>
#include <stddef.h>

struct oam_opts {
	const char *base_url; /* https://onsight.librestream.com[:port] */
	const char *proxy; /* "HOST:PORT" or NULL */
	SSL_CTX *tls;
	unsigned timeout_ms;
};

struct oam_session {
	char token[4096];
	char config_url[512];
	int expires_in;
};

/* POST /api/v1/login. Returns 0, or an errno with *http_status (0 when no HTTP answer) and
 * err filled in (e.g. "TLS: certificate verify failed (certificate has expired)"). */
int oam_login(const struct oam_opts *o, const char *user, const char *password,
              const char *device_id, struct oam_session *s, int *http_status, char *err,
              size_t errlen) __attribute__((warn_unused_result));
/* GET the configuration document; *bodyp is a new NUL-terminated buffer (caller frees). */
int oam_config(const struct oam_opts *o, const struct oam_session *s, char **bodyp, size_t *lenp,
               int *http_status, char *err, size_t errlen) __attribute__((warn_unused_result));

struct tcm_assignment {
	char server[256];
	unsigned port;
	char scheme[8]; /* "https" | "http" */
};

/* GET https://TCM/tcm/v1/assign with the Bearer token. */
int tcm_assign(const struct oam_opts *o, const char *tcm_host, const char *token,
               struct tcm_assignment *a, char *err, size_t errlen)
        __attribute__((warn_unused_result));

#endif
