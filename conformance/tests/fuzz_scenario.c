/* fuzz_scenario.c - scenario files through the strict loader (rules compiled into typed nodes,
 * witness, because), then every check of an accepted file judged over a small fixed timeline
 * (matchers, windows, regexes, CIDR, ranges, host names, the witness) and printed. */
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "conform/analysis.h"

static const char journal[] =
        "{\"ts\":\"2026-11-24T10:00:00.000Z\",\"mono\":1,\"service\":\"mock-oam\","
        "\"event\":\"login\",\"client\":\"198.51.100.10\",\"status\":200,\"user\":\"alice\"}\n"
        "{\"ts\":\"2026-11-24T10:00:01.000Z\",\"mono\":2,\"event\":\"detect\","
        "\"result\":\"direct\",\"probes\":[{\"target\":\"sip.librestream.com\",\"port\":5060,"
        "\"ok\":true}]}\n"
        "{\"ts\":\"2026-11-24T10:00:02.000Z\",\"mono\":3,\"service\":\"mock-sip\","
        "\"event\":\"register\",\"source\":\"198.51.100.10:40000\",\"result\":\"ok\","
        "\"at\":\"sip.librestream.com\"}\n"
        "{\"ts\":\"2026-11-24T10:00:03.000Z\",\"mono\":4,\"service\":\"cap\",\"event\":\"syn\","
        "\"src_ip\":\"198.51.100.10\",\"src_port\":40000,\"dst_ip\":\"203.0.113.20\","
        "\"dst_port\":5060,\"dst_host\":\"sip.librestream.com\"}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conform_scenario *s = NULL;
	struct conform_timeline *t = NULL;
	struct conform_results *r = NULL;
	char err[512];
	static const char *const caps[] = {"oam-login", NULL};

	if (conform_scenario_parse(&s, (const char *)data, size, "fuzz", err, sizeof(err)))
		return 0;
	if (!conform_timeline_alloc(&t, NULL) &&
	    !conform_timeline_add_journal_mem(t, journal, strlen(journal), "onsight-ref", err,
	                                      sizeof(err)) &&
	    !conform_analyze(&r, s, t, caps)) {
		FILE *f = fopen("/dev/null", "w");

		json_decref(conform_results_json(r));
		if (f) {
			conform_results_print(r, f);
			fclose(f);
		}
	}
	conform_results_free(r);
	conform_timeline_free(t);
	conform_scenario_free(s);
	return 0;
}
