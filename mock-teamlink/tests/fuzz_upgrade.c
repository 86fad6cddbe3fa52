/* libFuzzer harness: the server's HTTP request parser and the upgrade checks (a valid token
 * is spliced in for "TOKEN" so the checks past authentication are reached too). */
#include "httpreq.h"
#include "onsight/jwt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[] = "fuzz-key";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *tok;
	static struct http_req r;
	char *buf, *p;
	size_t n = 0;
	struct upgrade_res u;

	if (!tok) {
		json_t *c = json_pack("{s:s, s:I, s:I}", "sub", "fuzz", "iat",
		                      (json_int_t)1800000000, "exp", (json_int_t)1800003600);
		if (jwt_sign(key, sizeof(key) - 1, c, &tok))
			abort();
		json_decref(c);
	}
	if (size > HTTPREQ_MAX_HEAD)
		return 0;
	buf = malloc(size + strlen(tok) + 1);
	if (!buf)
		return 0;
	/* replace the first "TOKEN" with a real token */
	p = memmem(data, size, "TOKEN", 5);
	if (p) {
		size_t pre = (size_t)(p - (const char *)data);
		memcpy(buf, data, pre);
		memcpy(buf + pre, tok, strlen(tok));
		memcpy(buf + pre + strlen(tok), p + 5, size - pre - 5);
		n = size - 5 + strlen(tok);
	} else {
		memcpy(buf, data, size);
		n = size;
	}
	if (http_req_parse(buf, n, &r) == 0) {
		(void)upgrade_check(&r, key, sizeof(key) - 1, 1800000100, &u);
		(void)http_token_has(http_req_header(&r, "Connection"), "upgrade");
	}
	free(buf);
	return 0;
}
