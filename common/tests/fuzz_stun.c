/* libFuzzer harness: STUN decoding, integrity check and answering on arbitrary bytes. */
#include "onsight/stun.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m;
	struct sock_addr from;
	uint8_t out[STUN_MAX_MSG];
	size_t n;

	if (stun_decode(&m, data, size))
		return 0;
	(void)stun_check_integrity(&m, data, size, (const uint8_t *)"key", 3);
	if (sock_addr_parse(&from, "192.0.2.1:5", 0))
		return 0;
	(void)stun_binding_response(out, sizeof(out), &m, &from, (const uint8_t *)"k", 1, 1, &n);
	(void)stun_error_response(out, sizeof(out), &m, 420, "Unknown Attribute", &n);
	return 0;
}
