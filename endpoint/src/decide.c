/* decide.c - detect target, probe plan, path, server and tunnel scheme choices. */
#include "decide.h"

#include "faults.h"

#include "onsight/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int decide_oam_url(const char *base, unsigned faults, char *out, size_t len)
{
	const char *host, *end;
	int n;

	if (!base || !out || !len)
		return EINVAL;
	if (!(faults & F_LOGIN_PLAIN_HTTP)) {
		n = snprintf(out, len, "%s", base);
		return n < 0 || (size_t)n >= len ? ENAMETOOLONG : 0;
	}
	if (strncasecmp(base, "https://", 8) == 0)
		host = base + 8;
	else if (strncasecmp(base, "http://", 7) == 0)
		host = base + 7;
	else
		return EINVAL;
	/* Fault: the same server, in the clear on port 80. The host ends at a port or a path
	 * (an IPv6 literal keeps its brackets). */
	end = host[0] == '[' ? strchr(host, ']') : NULL;
	end = end ? end + 1 : host + strcspn(host, ":/");
	if (end == host)
		return EINVAL;
	n = snprintf(out, len, "http://%.*s%s", (int)(end - host), host,
	             strchr(end, '/') ? strchr(end, '/') : "");
	return n < 0 || (size_t)n >= len ? ENAMETOOLONG : 0;
}

int decide_fetch_config(unsigned faults)
{
	return !(faults & F_NO_CONFIG_FETCH);
}

void decide_builtin_config(struct epconfig *c, const char *user, const char *password)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->sip_uri, sizeof(c->sip_uri), "sip:%s@librestream.com", user);
	str_copy(c->display_name, user, sizeof(c->display_name));
	str_copy(c->auth_user, user, sizeof(c->auth_user));
	str_copy(c->auth_password, password, sizeof(c->auth_password));
	c->transport = EPC_TCP;
	c->pub.set = 1;
	str_copy(c->pub.host, CLOUD_SIP_HOST, sizeof(c->pub.host));
	c->pub.port = CLOUD_SIP_PORT;
	c->register_expires = 300;
	c->port_min = 15000;
	c->port_max = 65000;
	c->tl_enabled = 0;
	c->connection = EPC_CONN_AUTO;
	c->detect_method = EPC_DETECT_SIP;
}

int decide_detect_first(unsigned faults)
{
	return !(faults & F_REGISTER_BEFORE_DETECT);
}

int decide_registers(unsigned faults)
{
	return !(faults & F_NEVER_REGISTER);
}

enum epc_transport decide_sip_transport(const struct epconfig *c, unsigned faults)
{
	if ((faults & F_SIP_UDP) && c->transport == EPC_TCP)
		return EPC_UDP;
	return c->transport;
}

static void cloud_server(const struct epconfig *c, struct epc_hostport *out)
{
	memset(out, 0, sizeof(*out));
	out->set = 1;
	str_copy(out->host, CLOUD_SIP_HOST, sizeof(out->host));
	out->port = c->transport == EPC_TLS ? CLOUD_SIP_PORT + 1 : CLOUD_SIP_PORT;
}

void decide_registrar(const struct epconfig *c, unsigned faults, const struct epc_hostport *chosen,
                      struct epc_hostport *out)
{
	if (faults & F_REGISTER_WRONG_SERVER)
		cloud_server(c, out);
	else
		*out = *chosen;
}

int decide_call_route(const struct epconfig *c, unsigned faults, struct epc_hostport *out)
{
	if (!(faults & F_CALL_OUT_WRONG_SERVER))
		return 0;
	cloud_server(c, out);
	return 1;
}

int decide_detect_runs(const struct epconfig *c, unsigned faults)
{
	return c->tl_enabled || (faults & F_PROBE_WHEN_DISABLED);
}

static const char *sip_test_server(const struct epconfig *c)
{
	return c->pub.set ? c->pub.host : c->priv.set ? c->priv.host : NULL;
}

const char *decide_detect_target(const struct epconfig *c, unsigned faults)
{
	enum epc_detect m = c->detect_method;

	if (faults & F_WRONG_DETECT_TARGET) {
		/* Fault: probe a server the method did not select. */
		if (m == EPC_DETECT_SIP)
			return c->ntcm ? c->tcm[0] : c->nservers ? c->servers[0] : c->stun.host;
		return sip_test_server(c);
	}
	switch (m) {
	case EPC_DETECT_TCM:
		return c->ntcm ? c->tcm[0] : NULL;
	case EPC_DETECT_TEAMLINK:
		return c->nservers ? c->servers[0] : NULL;
	case EPC_DETECT_SIP:
	default:
		return sip_test_server(c);
	}
}

unsigned decide_probes(const struct epconfig *c, struct probe_plan plan[4])
{
	unsigned n = 0;

	plan[n++] = (struct probe_plan){"tcp-sip", DETECT_SIP_PORT};
	if (c->transport == EPC_TLS)
		plan[n++] = (struct probe_plan){"tls-sip", DETECT_SIPS_PORT};
	plan[n++] = (struct probe_plan){"stun", DETECT_STUN_PORT};
	plan[n++] = (struct probe_plan){"stun", DETECT_MEDIA_PORT};
	return n;
}

enum path decide_path(const struct epconfig *c, unsigned faults, int ran, int all_open,
                      const char **reason)
{
	if (!c->tl_enabled) {
		if (faults & F_TEAMLINK_WHEN_DISABLED) {
			*reason = "TeamLink disabled, tunnelled anyway";
			return PATH_TEAMLINK;
		}
		*reason = "TeamLink disabled: direct registration";
		return PATH_DIRECT;
	}
	if (faults & F_TEAMLINK_ALWAYS) {
		*reason = all_open ? "ports open, TeamLink used anyway" : "ports closed";
		return PATH_TEAMLINK;
	}
	if (!ran || all_open) {
		*reason = "SIP and media ports open to the test server";
		return PATH_DIRECT;
	}
	if (faults & F_NO_TEAMLINK_FALLBACK) {
		*reason = "ports closed, registering directly anyway";
		return PATH_DIRECT;
	}
	*reason = "SIP or media ports closed to the test server";
	return PATH_TEAMLINK;
}

enum server_choice decide_server(const struct epconfig *c, unsigned faults, const char **reason)
{
	if (c->pub.set && c->priv.set) {
		if (faults & F_REGISTER_PRIVATE_ONLY) {
			*reason = "both configured: private without OPTIONS";
			return CHOOSE_PRIVATE;
		}
		if (faults & F_SKIP_OPTIONS_PROBE) {
			*reason = "both configured: public without OPTIONS";
			return CHOOSE_PUBLIC;
		}
		*reason = "both configured: OPTIONS to the private server";
		return CHOOSE_ASK_PRIVATE;
	}
	if (c->priv.set) {
		*reason = "only the private server is configured";
		return CHOOSE_PRIVATE;
	}
	*reason = "only the public server is configured";
	return CHOOSE_PUBLIC;
}

unsigned decide_schemes(const struct epconfig *c, unsigned faults, const char *out[2])
{
	if (faults & F_HTTP_BEFORE_HTTPS) {
		out[0] = "http";
		out[1] = "https";
		return 2;
	}
	switch (c->connection) {
	case EPC_CONN_HTTPS:
		out[0] = "https";
		return 1;
	case EPC_CONN_HTTP:
		out[0] = "http";
		return 1;
	case EPC_CONN_AUTO:
	default:
		out[0] = "https";
		out[1] = "http";
		return 2;
	}
}
