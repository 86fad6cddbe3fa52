/* requirements.c - requirement IDs traced to the network requirements note. The same table is
 * docs/requirements.md; test_analysis_requirements keeps the two in step. */
#include <string.h>

#include "analysis_int.h"

static const struct conform_requirement reqs[] = {
        {"R-AUTH-1", "The endpoint logs in to OAM (onsight.librestream.com) over HTTPS",
         "§1, §1.1, §1.2.1"},
        {"R-AUTH-2",
         "The endpoint verifies the OAM certificate and refuses to continue on any TLS error",
         "§1, §1.1"},
        {"R-AUTH-3", "The endpoint fetches its configuration after authentication, before SIP",
         "§1.2.1"},
        {"R-SIP-1", "The endpoint registers to a SIP server after receiving its configuration",
         "§1.2.2"},
        {"R-SIP-2",
         "Direct SIP goes to the configured server on the standard ports (TCP 5060, TLS 5061)",
         "§3 (ports table), §1"},
        {"R-SIP-3", "Calls in and out are established through the SIP server", "§1, §1.2.2"},
        {"R-SIP-4", "Direct SIP registration is preferred whenever the SIP ports are open",
         "§3, §1.2.3"},
        {"R-PRIV-1",
         "With public and private servers configured, the endpoint sends OPTIONS to the private "
         "server first",
         "§4"},
        {"R-PRIV-2", "If the private server answers OPTIONS, the endpoint registers to it", "§4"},
        {"R-PRIV-3",
         "If the private server does not answer, the endpoint registers to the public server",
         "§4"},
        {"R-PRIV-4", "With only one server configured, the endpoint registers to it", "§4"},
        {"R-PROXY-1",
         "SIP and media never go through the web proxy except inside a TeamLink tunnel", "§2, §3"},
        {"R-PROXY-2", "HTTPS (OAM, TeamLink) goes through the configured web proxy with CONNECT",
         "§2"},
        {"R-PROXY-3",
         "Through the proxy the endpoint only asks for allow-listed names (*.librestream.com)",
         "§1.1, §2, §3"},
        {"R-TL-1", "TeamLink is used only when enabled in the configuration", "§1.2.3, §3"},
        {"R-TL-2", "The TeamLink tunnel runs over HTTPS (TCP 443) to a TeamLink server", "§5, §2"},
        {"R-TL-3",
         "When the firewall blocks SIP, the endpoint registers through the TeamLink tunnel",
         "§1.2.3, §5"},
        {"R-TL-4",
         "HTTP (TCP 80) is used only when the connection setting allows it and HTTPS fails",
         "§2, §5"},
        {"R-TL-5", "HTTPS is tried before HTTP", "§2, §5"},
        {"R-TL-6", "While tunnelled, SIP and media go only through the tunnel (no direct SIP/RTP)",
         "§1, §5"},
        {"R-TL-7",
         "With Enterprise SIP and TeamLink, the tunnel leads to the enterprise server's public "
         "interface",
         "§3 scenario 4"},
        {"R-DET-1", "Firewall Detect runs only if TeamLink is enabled", "§5.3"},
        {"R-DET-2", "Firewall Detect targets the test server chosen by the SIP detection method",
         "§5.3"},
        {"R-DET-3",
         "Firewall Detect tests the SIP port(s) over TCP and UDP (STUN 3478, a media port)",
         "§5.3, §3 (ports table)"},
        {"R-DET-4", "Ports open: register directly; ports closed: use TeamLink", "§5.3, §1.2.3"},
        {"R-DET-5", "Detection and registration are redone when the endpoint's network changes",
         "§3 scenario 2, §5.3"},
        {"R-MEDIA-1", "RTP/RTCP use UDP ports inside the configured media range (15000-65000)",
         "§3 (ports table)"},
        {"R-MEDIA-2", "Media flows in both directions during a call", "§1, §3"},
        {"R-MEDIA-3", "STUN uses UDP 3478 to the SIP/STUN server", "§3 (ports table)"},
};

size_t conform_requirement_count(void)
{
	return ARRAY_LEN(reqs);
}

const struct conform_requirement *conform_requirement_get(size_t i)
{
	return i < ARRAY_LEN(reqs) ? &reqs[i] : NULL;
}

const struct conform_requirement *conform_requirement_find(const char *id)
{
	for (size_t i = 0; id && i < ARRAY_LEN(reqs); i++)
		if (!strcmp(reqs[i].id, id))
			return &reqs[i];
	return NULL;
}

json_t *conform_coverage(struct conform_scenario *const *list, size_t n)
{
	json_t *out = json_array();

	for (size_t r = 0; out && r < ARRAY_LEN(reqs); r++) {
		json_t *checks = json_array();

		for (size_t s = 0; checks && s < n; s++) {
			for (size_t c = 0; c < conform_scenario_check_count(list[s]); c++) {
				const struct conform_check_info *ci =
				        conform_scenario_check(list[s], c);

				for (size_t k = 0; ci->req[k]; k++) {
					if (!strcmp(ci->req[k], reqs[r].id)) {
						json_array_append_new(
						        checks,
						        json_pack("{s:s, s:s}", "scenario",
						                  conform_scenario_id(list[s]),
						                  "check", ci->id));
						break;
					}
				}
			}
		}
		json_array_append_new(out,
		                      json_pack("{s:s, s:s, s:s, s:o*}", "req", reqs[r].id, "title",
		                                reqs[r].title, "note", reqs[r].note, "checks",
		                                checks));
	}
	return out;
}
