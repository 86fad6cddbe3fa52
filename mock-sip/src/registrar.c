/* registrar.c - the user table, bindings, digest challenges, REGISTER. */
#define LOG_TAG "registrar"
#include "registrar.h"
#include "onsight/digest.h"
#include "onsight/jsoncfg.h"
#include "onsight/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_USERS 100000
#define NAME_MAX_LEN 128
#define CONTACT_MAX 512
#define SWEEP_MS 1000

struct binding {
	char contact[CONTACT_MAX];
	char call_id[SIPMSG_TOKEN];
	unsigned long cseq;
	struct tp_flow flow;
	uint64_t expires_at_ms; /* UINT64_MAX: static */
	uint64_t updated_ms;
};

struct user {
	char name[NAME_MAX_LEN]; /* user part of the AOR */
	char auth_user[NAME_MAX_LEN];
	char password[NAME_MAX_LEN];
	struct binding *b; /* cfg.max_contacts slots; contact[0] == '\0' is free */
};

struct registrar {
	struct evloop *loop;
	struct journal *j;
	struct txnl *txn;
	struct registrar_cfg cfg;
	char **domains; /* a copy: cfg.domains points here */
	struct digest_server *ds;
	struct user *users; /* sorted by name */
	size_t nusers, nbindings;
	uint64_t sweep;
};

static int user_cmp(const void *a, const void *b)
{
	return strcmp(((const struct user *)a)->name, ((const struct user *)b)->name);
}

static struct user *user_find(const struct registrar *r, const char *name)
{
	struct user key = {.b = NULL};

	if (strlen(name) >= sizeof(key.name))
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, r->users, r->nusers, sizeof(key), user_cmp);
}

/* "sip:alice@librestream.com" -> "alice". */
static int aor_user(const char *uri, char *out, size_t cap)
{
	const char *p = strchr(uri, ':'), *at = strchr(uri, '@');

	if (!p || !at || at <= p + 1 || (size_t)(at - p - 1) >= cap)
		return EINVAL;
	memcpy(out, p + 1, (size_t)(at - p - 1));
	out[at - p - 1] = '\0';
	return 0;
}

static int load_account(struct user *u, json_t *acct, size_t i, char *err, size_t errlen)
{
	const char *uri = NULL, *au = NULL, *pw = NULL;

	if (json_unpack(acct, "{s:{s:{s:s}, s:{s:s, s:s}}}", "config", "user", "sip_uri", &uri,
	                "sip", "auth_user", &au, "auth_password", &pw) != 0 ||
	    aor_user(uri, u->name, sizeof(u->name)) || strlen(au) >= sizeof(u->auth_user) ||
	    strlen(pw) >= sizeof(u->password)) {
		snprintf(err, errlen,
		         "$.accounts[%zu]: needs config.user.sip_uri (sip:user@domain) and "
		         "config.sip.auth_user/auth_password",
		         i);
		return EINVAL;
	}
	snprintf(u->auth_user, sizeof(u->auth_user), "%s", au);
	snprintf(u->password, sizeof(u->password), "%s", pw);
	return 0;
}

static int load_users(const char *path, struct user **out, size_t *n, size_t max_contacts,
                      char *err, size_t errlen)
{
	json_t *root = NULL, *accts;
	struct user *u = NULL;
	size_t cnt = 0;
	int e = jcfg_load(path, &root, err, errlen);

	if (e)
		return e;
	accts = json_object_get(root, "accounts");
	e = EINVAL;
	if (!json_is_array(accts) || json_array_size(accts) > MAX_USERS) {
		snprintf(err, errlen, "%s: $.accounts must be an array (at most %d)", path,
		         MAX_USERS);
		goto out;
	}
	cnt = json_array_size(accts);
	u = calloc(cnt ? cnt : 1, sizeof(*u));
	if (!u) {
		e = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < cnt; i++) {
		e = load_account(&u[i], json_array_get(accts, i), i, err, errlen);
		if (!e && !(u[i].b = calloc(max_contacts, sizeof(struct binding))))
			e = ENOMEM;
		if (e)
			goto out;
	}
	qsort(u, cnt, sizeof(*u), user_cmp);
	for (size_t i = 1; i < cnt; i++) {
		if (strcmp(u[i].name, u[i - 1].name) == 0) {
			snprintf(err, errlen, "%s: user %s appears twice", path, u[i].name);
			goto out;
		}
	}
	*out = u;
	*n = cnt;
	u = NULL;
	e = 0;
out:
	if (u)
		for (size_t i = 0; i < cnt; i++)
			free(u[i].b);
	free(u);
	json_decref(root);
	return e;
}

static void free_users(struct user *u, size_t n)
{
	for (size_t i = 0; u && i < n; i++)
		free(u[i].b);
	free(u);
}

static void journal_reg(struct registrar *r, const char *user, const char *contact,
                        const struct tp_flow *f, long expires, const char *result,
                        const char *reason)
{
	char src[SOCK_ADDR_STRLEN];
	json_t *o = json_pack(
	        "{s:s, s:s, s:s, s:s, s:i, s:s}", "user", user, "contact", contact ? contact : "",
	        "source", f ? sock_addr_str(&f->peer, src, sizeof(src)) : "", "transport",
	        f ? tp_kind_name(f->kind) : "", "expires", (json_int_t)expires, "result", result);

	if (o && reason)
		json_object_set_new(o, "reason", json_string(reason));
	if (o && f && f->local.len)
		json_object_set_new(o, "local",
		                    json_string(sock_addr_str(&f->local, src, sizeof(src))));
	journal_write(r->j, "register", o);
}

static void binding_drop(struct registrar *r, struct user *u, struct binding *b, const char *why)
{
	journal_reg(r, u->name, b->contact, &b->flow, 0, "unregister", why);
	memset(b, 0, sizeof(*b));
	r->nbindings--;
}

static void sweep(void *arg)
{
	struct registrar *r = arg;
	uint64_t now = evloop_now_ms();

	for (size_t i = 0; i < r->nusers; i++)
		for (size_t k = 0; k < r->cfg.max_contacts; k++)
			if (r->users[i].b[k].contact[0] && r->users[i].b[k].expires_at_ms <= now)
				binding_drop(r, &r->users[i], &r->users[i].b[k], "expired");
	r->sweep = evloop_timer_add(r->loop, SWEEP_MS, sweep, r);
}

static int copy_domains(struct registrar *r, const char *const *d)
{
	size_t n = 0;

	while (d[n])
		n++;
	r->domains = calloc(n + 1, sizeof(*r->domains));
	if (!r->domains)
		return ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(r->domains[i] = strdup(d[i])))
			return ENOMEM;
	r->cfg.domains = (const char *const *)r->domains;
	return 0;
}

int registrar_alloc(struct registrar **rp, struct evloop *loop, struct journal *j, struct txnl *txn,
                    const struct registrar_cfg *cfg, char *err, size_t errlen)
{
	struct registrar *r;
	int e;

	if (!rp || !cfg || !cfg->users_file || !cfg->domains || !cfg->domains[0] ||
	    cfg->max_contacts == 0)
		return EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->loop = loop;
	r->j = j;
	r->txn = txn;
	r->cfg = *cfg;
	e = copy_domains(r, cfg->domains);
	if (!e)
		e = digest_server_alloc(&r->ds, cfg->nonce_ttl_ms, cfg->nonce_slots);
	if (!e)
		e = load_users(cfg->users_file, &r->users, &r->nusers, cfg->max_contacts, err,
		               errlen);
	if (e) {
		registrar_free(r);
		return e;
	}
	r->sweep = evloop_timer_add(loop, SWEEP_MS, sweep, r);
	*rp = r;
	return 0;
}

void registrar_free(struct registrar *r)
{
	if (!r)
		return;
	evloop_timer_cancel(r->loop, r->sweep);
	for (size_t i = 0; r->domains && r->domains[i]; i++)
		free(r->domains[i]);
	free(r->domains);
	digest_server_free(r->ds);
	free_users(r->users, r->nusers);
	free(r);
}

int registrar_reload(struct registrar *r, char *err, size_t errlen)
{
	struct user *nu = NULL;
	size_t n = 0;
	int e = load_users(r->cfg.users_file, &nu, &n, r->cfg.max_contacts, err, errlen);

	if (e)
		return e;
	r->nbindings = 0;
	for (size_t i = 0; i < n; i++) {
		struct user *old = user_find(r, nu[i].name);
		if (!old)
			continue;
		memcpy(nu[i].b, old->b, r->cfg.max_contacts * sizeof(struct binding));
		for (size_t k = 0; k < r->cfg.max_contacts; k++)
			r->nbindings += nu[i].b[k].contact[0] != '\0';
	}
	free_users(r->users, r->nusers);
	r->users = nu;
	r->nusers = n;
	return 0;
}

int registrar_user_known(const struct registrar *r, const char *user)
{
	return user_find(r, user) != NULL;
}

int registrar_domain_ours(const struct registrar *r, const char *domain)
{
	for (size_t i = 0; domain && r->cfg.domains[i]; i++)
		if (strcasecmp(domain, r->cfg.domains[i]) == 0)
			return 1;
	return 0;
}

const char *registrar_realm(const struct registrar *r)
{
	return r->cfg.domains[0];
}

size_t registrar_binding_count(const struct registrar *r)
{
	return r->nbindings;
}

int registrar_lookup(struct registrar *r, const char *user, struct binding_view *out)
{
	struct user *u = user_find(r, user);
	struct binding *best = NULL;
	uint64_t now = evloop_now_ms();

	for (size_t k = 0; u && k < r->cfg.max_contacts; k++) {
		struct binding *b = &u->b[k];
		if (b->contact[0] && b->expires_at_ms > now &&
		    (!best || b->updated_ms > best->updated_ms))
			best = b;
	}
	if (!best)
		return ENOENT;
	out->contact = best->contact;
	out->flow = best->flow;
	out->expires_at_ms = best->expires_at_ms;
	return 0;
}

static struct binding *binding_slot(struct registrar *r, struct user *u, const char *contact)
{
	struct binding *free_b = NULL, *oldest = NULL;

	for (size_t k = 0; k < r->cfg.max_contacts; k++) {
		struct binding *b = &u->b[k];
		if (b->contact[0] && strcmp(b->contact, contact) == 0)
			return b;
		if (!b->contact[0] && !free_b)
			free_b = b;
		if (b->contact[0] && b->expires_at_ms != UINT64_MAX &&
		    (!oldest || b->updated_ms < oldest->updated_ms))
			oldest = b;
	}
	if (free_b)
		return free_b;
	if (oldest) /* full: the least recently refreshed contact makes room */
		binding_drop(r, u, oldest, "replaced");
	return oldest;
}

int registrar_add_static(struct registrar *r, const char *user, const char *contact,
                         const struct tp_flow *flow)
{
	struct user *u = user_find(r, user);
	struct binding *b;

	if (!u)
		return ENOENT;
	b = binding_slot(r, u, contact);
	if (!b)
		return ENOSPC;
	if (!b->contact[0])
		r->nbindings++;
	snprintf(b->contact, sizeof(b->contact), "%s", contact);
	b->flow = *flow;
	b->expires_at_ms = UINT64_MAX;
	b->updated_ms = evloop_now_ms();
	return 0;
}

/* ---- REGISTER ---- */

struct reply_ctx {
	struct registrar *r;
	struct user *u;
	const char *challenge;
	unsigned min_expires;
};

static void add_headers(osip_message_t *resp, void *arg)
{
	struct reply_ctx *x = arg;
	char buf[CONTACT_MAX + 32];
	uint64_t now = evloop_now_ms();

	if (x->challenge)
		osip_message_set_header(resp, "WWW-Authenticate", x->challenge);
	if (x->min_expires) {
		snprintf(buf, sizeof(buf), "%u", x->min_expires);
		osip_message_set_header(resp, "Min-Expires", buf);
	}
	for (size_t k = 0; x->u && k < x->r->cfg.max_contacts; k++) {
		const struct binding *b = &x->u->b[k];
		uint64_t left;
		if (!b->contact[0] || b->expires_at_ms == UINT64_MAX || b->expires_at_ms <= now)
			continue;
		left = (b->expires_at_ms - now + 999) / 1000;
		snprintf(buf, sizeof(buf), "<%s>;expires=%llu", b->contact,
		         (unsigned long long)left);
		osip_message_set_contact(resp, buf);
	}
}

static void reply(struct registrar *r, const struct sipmsg *req, const struct tp_flow *from,
                  int status, const char *reason, struct reply_ctx *x)
{
	struct reply_ctx none = {.r = r};

	(void)txn_reply(r->txn, req, from, status, reason, "reg", add_headers, x ? x : &none);
}

static void challenge(struct registrar *r, const struct sipmsg *req, const struct tp_flow *from,
                      const char *user, int stale, const char *result, const char *why)
{
	char ch[512];
	struct reply_ctx x = {.r = r, .challenge = ch};

	if (digest_server_challenge(r->ds, evloop_now_ms(), r->cfg.domains[0], stale, ch,
	                            sizeof(ch)))
		return reply(r, req, from, 500, "Server Internal Error", NULL);
	journal_reg(r, user, NULL, from, 0, result, why);
	reply(r, req, from, 401, "Unauthorized", &x);
}

/* 0 when the credentials are good; otherwise the request has been answered. */
static int authenticate(struct registrar *r, const struct sipmsg *req, const struct tp_flow *from,
                        struct user *u)
{
	osip_authorization_t *a = osip_list_get(&req->m->authorizations, 0);
	struct digest_params c;
	char *text = NULL;
	enum digest_verdict v;
	int perr;

	if (!a)
		return challenge(r, req, from, u->name, 0, "challenge", NULL), -1;
	if (osip_authorization_to_str(a, &text) != 0)
		return challenge(r, req, from, u->name, 0, "fail", "bad credentials"), -1;
	perr = digest_parse(text, &c);
	osip_free(text);
	if (perr || strcmp(c.username, u->auth_user) != 0)
		return challenge(r, req, from, u->name, 0, perr ? "challenge" : "fail",
		                 perr ? "unknown scheme" : "wrong user"),
		       -1;
	v = digest_server_check(r->ds, evloop_now_ms(), &c, "REGISTER", r->cfg.domains[0],
	                        u->password, NULL);
	if (v == DIGEST_OK)
		return 0;
	challenge(r, req, from, u->name, v == DIGEST_STALE,
	          v == DIGEST_STALE ? "challenge" : "fail", digest_verdict_str(v));
	return -1;
}

/* Expires value of a string of digits, capped; -1 when malformed. */
static long parse_expires(const char *s, unsigned cap)
{
	unsigned long long v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		if (v < 100000000000ull)
			v = v * 10 + (unsigned)(*s - '0');
	}
	return v > cap ? (long)cap : (long)v;
}

static long contact_expires(const struct registrar *r, osip_contact_t *c, long hdr)
{
	osip_generic_param_t *p = NULL;

	if (osip_contact_param_get_byname(c, "expires", &p) >= 0 && p && p->gvalue)
		return parse_expires(p->gvalue, r->cfg.max_expires);
	return hdr >= 0 ? hdr : (long)r->cfg.default_expires;
}

static int is_wildcard(const osip_contact_t *c)
{
	return c && !c->url && c->displayname && strcmp(c->displayname, "*") == 0;
}

static void unregister_all(struct registrar *r, struct user *u)
{
	for (size_t k = 0; k < r->cfg.max_contacts; k++)
		if (u->b[k].contact[0] && u->b[k].expires_at_ms != UINT64_MAX)
			binding_drop(r, u, &u->b[k], "unregister");
}

static int update_binding(struct registrar *r, struct user *u, const struct sipmsg *req,
                          const struct tp_flow *from, const char *contact, long exp)
{
	struct binding *b = binding_slot(r, u, contact);

	if (!b)
		return ENOSPC;
	if (b->contact[0] && strcmp(b->call_id, req->call_id) == 0 && req->cseq <= b->cseq)
		return EALREADY; /* RFC 3261 §10.3 step 7: out of order */
	if (exp == 0) {
		if (b->contact[0])
			binding_drop(r, u, b, "unregister");
		return 0;
	}
	if (!b->contact[0])
		r->nbindings++;
	snprintf(b->contact, sizeof(b->contact), "%s", contact);
	snprintf(b->call_id, sizeof(b->call_id), "%s", req->call_id);
	b->cseq = req->cseq;
	b->flow = *from;
	b->updated_ms = evloop_now_ms();
	b->expires_at_ms = b->updated_ms + (uint64_t)exp * 1000;
	journal_reg(r, u->name, contact, from, exp, "ok", NULL);
	return 0;
}

/* Checks every contact first (RFC 3261 §10.3 steps 6-8): nothing changes on a 4xx. */
static int check_contacts(struct registrar *r, const struct sipmsg *req, long hdr,
                          const char **reason)
{
	int n = osip_list_size(&req->m->contacts);

	for (int i = 0; i < n; i++) {
		osip_contact_t *c = osip_list_get(&req->m->contacts, i);
		long e;
		if (is_wildcard(c)) {
			*reason = "Wildcard Needs Expires 0 Alone";
			if (n != 1 || hdr != 0)
				return 400;
			continue;
		}
		if (!c || !c->url) {
			*reason = "Bad Contact";
			return 400;
		}
		e = contact_expires(r, c, hdr);
		if (e < 0) {
			*reason = "Bad Expires";
			return 400;
		}
		if (e > 0 && e < (long)r->cfg.min_expires) {
			*reason = "Interval Too Brief";
			return 423;
		}
	}
	return 0;
}

static int apply_contacts(struct registrar *r, struct user *u, const struct sipmsg *req,
                          const struct tp_flow *from, long hdr)
{
	int n = osip_list_size(&req->m->contacts);

	for (int i = 0; i < n; i++) {
		osip_contact_t *c = osip_list_get(&req->m->contacts, i);
		char *uri = NULL;
		int e;
		if (is_wildcard(c)) {
			unregister_all(r, u);
			continue;
		}
		if (osip_uri_to_str(c->url, &uri) != 0)
			return EINVAL;
		e = strlen(uri) < CONTACT_MAX
		        ? update_binding(r, u, req, from, uri, contact_expires(r, c, hdr))
		        : EINVAL;
		osip_free(uri);
		if (e)
			return e;
	}
	return 0;
}

static struct user *target_user(struct registrar *r, const struct sipmsg *req, int *st,
                                const char **reason)
{
	const osip_uri_t *to = req->m->to->url;
	struct user *u;

	*st = 404;
	*reason = "Not Found";
	if (!to->scheme || (strcasecmp(to->scheme, "sip") && strcasecmp(to->scheme, "sips"))) {
		*st = 400; /* RFC 4475 §3.3.4: To must be a SIP URI for a registrar */
		*reason = "To Must Be A SIP URI";
		return NULL;
	}
	if (!to->username || !registrar_domain_ours(r, to->host))
		return NULL;
	u = user_find(r, to->username);
	return u;
}

void registrar_handle(struct registrar *r, const struct sipmsg *req, const struct tp_flow *from)
{
	struct reply_ctx x = {.r = r};
	const char *reason = NULL;
	struct user *u;
	long hdr = -1;
	int st;

	u = target_user(r, req, &st, &reason);
	if (!u) {
		journal_reg(r, req->to_uri, NULL, from, 0, "fail", reason);
		return reply(r, req, from, st, reason, NULL);
	}
	if (authenticate(r, req, from, u))
		return;
	if (sipmsg_header(req->m, "expires"))
		hdr = parse_expires(sipmsg_header(req->m, "expires"), r->cfg.max_expires);
	st = check_contacts(r, req, hdr, &reason);
	if (st) {
		x.min_expires = st == 423 ? r->cfg.min_expires : 0;
		journal_reg(r, u->name, NULL, from, 0, "fail", reason);
		return reply(r, req, from, st, reason, &x);
	}
	st = apply_contacts(r, u, req, from, hdr);
	if (st) {
		journal_reg(r, u->name, NULL, from, 0, "fail", "contact not stored");
		return reply(r, req, from, st == EALREADY ? 500 : 503,
		             st == EALREADY ? "Out Of Order" : "Binding Not Stored", NULL);
	}
	x.u = u;
	reply(r, req, from, 200, "OK", &x);
}

const char *registrar_password(const struct registrar *r, const char *auth_user)
{
	for (size_t i = 0; i < r->nusers; i++)
		if (strcmp(r->users[i].auth_user, auth_user) == 0)
			return r->users[i].password;
	return NULL;
}
