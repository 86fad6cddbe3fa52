/* libFuzzer harness: Digest challenge/credential parsing and server verification. */
#include "onsight/digest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct digest_server *s;
	struct digest_params p;
	char *v = malloc(size + 1);

	if (!v)
		return 0;
	memcpy(v, data, size);
	v[size] = '\0';
	if (!s && digest_server_alloc(&s, 1000, 4))
		goto out;
	if (digest_parse(v, &p) == 0)
		(void)digest_server_check(s, 5, &p, "REGISTER", "librestream.com", "pw", NULL);
out:
	free(v);
	return 0;
}
