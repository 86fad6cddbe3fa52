/* libFuzzer harness: teamlink.v1 message parser; what parses must rebuild to the same bytes. */
#include "teamlink/msg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tl_msg m;
	uint8_t out[TL_MAX_MSG];
	size_t n = 0;

	if (tl_parse(data, size, &m))
		return 0;
	switch (m.type) {
	case TL_OPEN_SIP:
		n = tl_build_open_sip(out, sizeof(out), m.channel, m.host, m.port, m.transport);
		break;
	case TL_OPEN_UDP:
		n = tl_build_open_udp(out, sizeof(out), m.channel, m.host, m.port);
		break;
	case TL_WINDOW:
		n = tl_build_window(out, sizeof(out), m.channel, m.increment);
		break;
	case TL_ERROR:
		n = tl_build(out, sizeof(out), TL_ERROR, m.channel, data + TL_HDR, size - TL_HDR);
		break;
	default:
		n = tl_build(out, sizeof(out), m.type, m.channel, m.data, m.len);
		break;
	}
	if (n != size || memcmp(out, data, size))
		abort();
	(void)tl_type_name(m.type);
	(void)tl_code_name(m.code);
	return 0;
}
