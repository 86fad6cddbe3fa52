/* decide.h - the endpoint's decisions as pure functions of the configuration, the probe
 * results and the faults switched in (DESIGN §4 steps 3-4, note §4 and §5.3), so each rule
 * is tested on its own. */
#ifndef EP_DECIDE_H
#define EP_DECIDE_H

#include "epconfig.h"

#define DETECT_SIP_PORT 5060
#define DETECT_SIPS_PORT 5061
#define DETECT_STUN_PORT 3478
#define DETECT_MEDIA_PORT 15000 /* first port of the cloud media range (note §3 table) */

#define CLOUD_SIP_HOST "sip.librestream.com" /* the Onsight cloud's own SIP service */
#define CLOUD_SIP_PORT 5060

enum path { PATH_DIRECT = 0, PATH_TEAMLINK };

/* The OAM base URL to log in to: base itself; with login-plain-http the same host over
 * http:// on port 80 (any port in base is dropped). 0, or EINVAL (not an http(s) URL) or
 * ENAMETOOLONG. */
int decide_oam_url(const char *base, unsigned faults, char *out, size_t len)
        __attribute__((warn_unused_result));
/* Is the configuration fetched after login? Not with no-config-fetch. */
int decide_fetch_config(unsigned faults);
/* The configuration an endpoint that never fetched one falls back to: the cloud SIP
 * server on TCP 5060, TeamLink off, the login name and password as SIP identity. */
void decide_builtin_config(struct epconfig *c, const char *user, const char *password);
/* Does Firewall Detect (when it runs) come before the first registration? Not with
 * register-before-detect: one direct registration first, detection after it. */
int decide_detect_first(unsigned faults);
/* Does the endpoint register at all? Not with never-register. */
int decide_registers(unsigned faults);
/* Transport of direct SIP: the configured one; sip-udp turns TCP into UDP. */
enum epc_transport decide_sip_transport(const struct epconfig *c, unsigned faults);
/* Where the REGISTER goes once a server is chosen: *chosen; with register-wrong-server the
 * cloud server whatever was chosen. */
void decide_registrar(const struct epconfig *c, unsigned faults, const struct epc_hostport *chosen,
                      struct epc_hostport *out);
/* Where an outgoing INVITE goes: 0 = on the registration's own flow (through the
 * registrar); 1 = straight to *out (call-out-wrong-server: the cloud server). */
int decide_call_route(const struct epconfig *c, unsigned faults, struct epc_hostport *out);

/* Does Firewall Detect run? Only when TeamLink is enabled (note §5.3). */
int decide_detect_runs(const struct epconfig *c, unsigned faults);
/* The test server for detect_method: sip → public SIP server (else the private one), tcm →
 * first TCM, teamlink → first TeamLink server. NULL when the list it needs is empty. */
const char *decide_detect_target(const struct epconfig *c, unsigned faults);

struct probe_plan {
	const char *proto; /* "tcp-sip" | "tls-sip" | "stun" */
	unsigned port;
};
/* The probes in order: TCP 5060 OPTIONS, TLS 5061 when transport is TLS, STUN 3478, STUN on
 * the media port. Returns the count (<= 4). */
unsigned decide_probes(const struct epconfig *c, struct probe_plan plan[4]);

/* Path for the SIP service from the detect outcome (ran = detect ran, all_open = every
 * probe answered). */
enum path decide_path(const struct epconfig *c, unsigned faults, int ran, int all_open,
                      const char **reason);

enum server_choice { CHOOSE_PUBLIC = 0, CHOOSE_PRIVATE, CHOOSE_ASK_PRIVATE };
/* What to do before registering: register to one directly, or OPTIONS the private first. */
enum server_choice decide_server(const struct epconfig *c, unsigned faults, const char **reason);

/* Tunnel schemes to try in order ("https", "http"); returns how many (1 or 2). */
unsigned decide_schemes(const struct epconfig *c, unsigned faults, const char *out[2]);

#endif
