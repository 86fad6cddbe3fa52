/* fuzz_sipresp - SIP input to the user agent while a REGISTER and an INVITE are pending.
 * "CIDREG" and "CIDINV" in the input are replaced with the live Call-IDs so responses reach
 * the transaction handling (challenges, 2xx with SDP, errors), not only the parser. */
#include "sipua.h"
#include "uaconf.h"

#include "onsight/evloop.h"
#include "onsight/log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int discard(void *arg, const char *buf, size_t len)
{
	(void)arg;
	(void)buf;
	(void)len;
	return 0;
}

static int media_open(void *arg, struct rtp *r, const char *host, unsigned port)
{
	(void)arg;
	(void)r;
	(void)host;
	(void)port;
	return 0;
}

static void reg(void *arg, int ok, const char *reason)
{
	(void)arg;
	(void)ok;
	(void)reason;
}

/* Replaces every occurrence of key by val into out (capped). */
static size_t subst(const uint8_t *in, size_t n, char *out, size_t cap, const char *k1,
                    const char *v1, const char *k2, const char *v2)
{
	size_t i = 0, o = 0, l1 = strlen(k1), l2 = strlen(k2);

	while (i < n && o < cap) {
		const char *v = NULL;
		size_t kl = 0;

		if (n - i >= l1 && memcmp(in + i, k1, l1) == 0)
			v = v1, kl = l1;
		else if (n - i >= l2 && memcmp(in + i, k2, l2) == 0)
			v = v2, kl = l2;
		if (v) {
			size_t vl = strlen(v);

			if (o + vl > cap)
				break;
			memcpy(out + o, v, vl);
			o += vl;
			i += kl;
		} else {
			out[o++] = (char)in[i++];
		}
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evloop *loop = NULL;
	struct sipua *ua = NULL;
	struct sipua_conf c;
	struct sipua_hooks h = {discard, media_open, NULL, reg, NULL, NULL};
	static char buf[70000];
	size_t len;

	log_init("fuzz_sipresp", LOG_LVL_ERR); /* drops are expected: keep them quiet */
	if (evloop_alloc(&loop))
		return 0;
	uaconf_alice(&c);
	c.auth_password = "pw";
	c.local_host = "127.0.0.1";
	c.local_port = 5060;
	c.port_min = 30000;
	c.port_max = 30999;
	c.auto_answer = 1;
	if (sipua_alloc(&ua, loop, NULL, &c, &h) == 0) {
		if (sipua_register(ua) == 0 && sipua_call(ua, "sip:peer@librestream.com") == 0) {
			char cid[160];

			strncpy(cid, sipua_call_id(ua), sizeof(cid) - 1);
			cid[sizeof(cid) - 1] = '\0';
			len = subst(data, size, buf, sizeof(buf), "CIDREG", sipua_reg_call_id(ua),
			            "CIDINV", cid);
			(void)sipua_input(ua, buf, len);
		}
		sipua_free(ua);
	}
	evloop_free(loop);
	return 0;
}
