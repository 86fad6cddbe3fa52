/* libFuzzer harness: SDP reading and the relay rewrite on arbitrary bytes. */
#include "onsight/sdp.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[SDP_MAX_LEN * 2];
	struct sdp_info info;
	struct sock_addr relay;
	uint16_t ports[SDP_MAX_STREAMS] = {30000, 30002, 30004, 30006};
	size_t n;

	struct sdp_stream st;

	(void)sdp_find((const char *)data, size, "audio", &st);
	if (sdp_parse((const char *)data, size, &info))
		return 0;
	if (sock_addr_parse(&relay, "[2001:db8::20]", 0))
		return 0;
	(void)sdp_rewrite((const char *)data, size, &relay, ports, info.n, out, sizeof(out), &n);
	(void)sdp_rewrite((const char *)data, size, &relay, ports, info.n, out, 64, &n);
	return 0;
}
