/* fuzz_pcap.c - pcap/pcapng bytes through the whole timeline path (link layers, IP, TCP
 * reassembly, SIP/HTTP/TLS/STUN/DNS/RTP decoders), the same bytes as a journal (host names
 * from `local`), then the timeline as JSON. A name is never given without its address. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "conform/analysis.h"

static void check_names(struct conform_timeline *t)
{
	static const char *const pairs[][2] = {{"src_host", "src_ip"},
	                                       {"dst_host", "dst_ip"},
	                                       {"dst_service", "dst_port"},
	                                       {"at", "local"}};

	for (size_t i = 0; i < conform_timeline_count(t); i++) {
		const json_t *e = conform_timeline_event(t, i);

		for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++)
			if (json_object_get(e, pairs[k][0]) && !json_object_get(e, pairs[k][1]))
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conform_timeline_limits lim = {
	        .max_events = 20000, .max_flows = 64, .max_stream_buf = 16384};
	struct conform_timeline *t = NULL;
	char err[256];

	if (conform_timeline_alloc(&t, &lim))
		return 0;
	(void)conform_timeline_add_pcap_mem(t, data, size, "fuzz", err, sizeof(err));
	(void)conform_timeline_add_journal_mem(t, (const char *)data, size, "fuzz", err,
	                                       sizeof(err));
	check_names(t);
	json_decref(conform_timeline_json(t));
	conform_timeline_free(t);
	return 0;
}
