/* fuzz_scenario.c - scenario files through the strict loader, then every check of an accepted
 * file evaluated over a small fixed timeline (matchers, windows, regexes, CIDR, ranges). */
#include <stddef.h>
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
        "\"event\":\"register\",\"source\":\"198.51.100.10:40000\",\"result\":\"ok\"}\n";

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
	    !conform_analyze(&r, s, t, caps))
		json_decref(conform_results_json(r));
	conform_results_free(r);
	conform_timeline_free(t);
	conform_scenario_free(s);
	return 0;
}
