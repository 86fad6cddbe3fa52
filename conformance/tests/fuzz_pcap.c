/* fuzz_pcap.c - pcap/pcapng bytes through the whole timeline path (link layers, IP, TCP
 * reassembly, SIP/HTTP/TLS/STUN/DNS/RTP decoders), then the timeline as JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "conform/analysis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conform_timeline_limits lim = {
	        .max_events = 20000, .max_flows = 64, .max_stream_buf = 16384};
	struct conform_timeline *t = NULL;
	char err[256];

	if (conform_timeline_alloc(&t, &lim))
		return 0;
	(void)conform_timeline_add_pcap_mem(t, data, size, "fuzz", err, sizeof(err));
	json_decref(conform_timeline_json(t));
	conform_timeline_free(t);
	return 0;
}
