/* registrar.h - users, bindings and the REGISTER method (RFC 3261 §10) with MD5 digest.
 *
 * Users come from the mock-oam accounts file: each account's config.user.sip_uri names the
 * address of record, config.sip.auth_user / auth_password the digest credentials. A binding
 * remembers the contact and the flow the REGISTER came over, so requests for the user go
 * back over that flow (the connection, or the NAT binding of its source address).
 */
#ifndef REGISTRAR_H
#define REGISTRAR_H

#include "onsight/journal.h"
#include "sipmsg.h"
#include "transport.h"
#include "txn.h"

#include <stdint.h>

struct registrar;

struct registrar_cfg {
	const char *users_file; /* borrowed: read again on reload */
	const char *const *domains; /* NULL-terminated, copied; the first is the realm */
	unsigned min_expires, max_expires, default_expires;
	size_t max_contacts; /* per user */
	uint64_t nonce_ttl_ms;
	size_t nonce_slots;
};

struct binding_view {
	const char *contact; /* URI without the angle brackets */
	struct tp_flow flow;
	uint64_t expires_at_ms;
};

int registrar_alloc(struct registrar **rp, struct evloop *loop, struct journal *j, struct txnl *txn,
                    const struct registrar_cfg *cfg, char *err, size_t errlen)
        __attribute__((warn_unused_result));
void registrar_free(struct registrar *r);
/* Re-reads the users file (SIGHUP); bindings of users still present are kept. */
int registrar_reload(struct registrar *r, char *err, size_t errlen);
/* Handles a REGISTER and answers it. */
void registrar_handle(struct registrar *r, const struct sipmsg *req, const struct tp_flow *from);
/* 1 if user (the user part of an address of record) is known. */
int registrar_user_known(const struct registrar *r, const char *user);
/* 1 if domain is one of ours. */
int registrar_domain_ours(const struct registrar *r, const char *domain);
/* The most recently refreshed live binding of user, or -1 (ENOENT). */
int registrar_lookup(struct registrar *r, const char *user, struct binding_view *out);
/* A binding that never expires (the built-in peer). */
int registrar_add_static(struct registrar *r, const char *user, const char *contact,
                         const struct tp_flow *flow);
size_t registrar_binding_count(const struct registrar *r);
const char *registrar_realm(const struct registrar *r);
/* The SIP password of the account whose auth_user is auth_user, or NULL (STUN keys). */
const char *registrar_password(const struct registrar *r, const char *auth_user);

#endif
