/* decide.c - detect target, probe plan, path, server and tunnel scheme choices. */
#include "decide.h"

#include "faults.h"

#include <string.h>

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
