/* analysis_int.h - internals shared by the analysis modules (not installed). */
#ifndef CONFORM_ANALYSIS_INT_H
#define CONFORM_ANALYSIS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "conform/analysis.h"

/* Caps of the decoders (docs/timeline.md). */
#define AN_MAX_HEAD 65536 /* SIP/HTTP message head + SIP body */
#define AN_MAX_HEADERS 64 /* headers looked at per message */
#define AN_MAX_HDRVAL 1024 /* bytes of one header value kept */
#define AN_MAX_UDP_FLOWS 65536
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The addresses of one packet, as text for the timeline. */
struct pktinfo {
	double t;
	long frame;
	int af; /* AF_INET | AF_INET6; addresses in network order, formatted only for events */
	uint8_t sa[16], da[16];
	uint16_t sport, dport;
	const char *proto; /* "tcp" | "udp" */
};

struct tcp_table;
struct udp_table;
struct frag_table;

struct host_entry {
	char *name;
	char *addr;
};

struct conform_timeline {
	struct conform_timeline_limits lim;
	struct tl_slot {
		double t;
		size_t seq;
		json_t *ev;
	} * ev;
	size_t n, cap;
	size_t named; /* events [0, named) have their host and service names */
	bool sorted;
	struct conform_timeline_stats st;
	const char *capture; /* name of the capture being read (borrowed during add_pcap) */
	struct tcp_table *tcp;
	struct udp_table *udp;
	struct frag_table *frag; /* IP fragments of the capture being read (pcapread.c) */
	struct host_entry *hosts;
	size_t nhosts, caphosts;
};

/* The service of a well-known port ("sip", "https", ...), NULL for others (timeline.c). */
const char *port_service(unsigned port);
/* Adds an event (timeline.c). For pcap events pi gives src/capture/frame/addresses; returns
 * the new object (borrowed, add attributes to it) or NULL when the event cap is reached. */
json_t *tl_add_pcap_event(struct conform_timeline *t, const struct pktinfo *pi, const char *kind);
int tl_add_json_event(struct conform_timeline *t, double when, json_t *ev /* stolen */);
/* The file name up to its first '.' (capture and journal default names). */
void str_copy_basename(char *dst, size_t size, const char *name);
/* "2026-11-24T03:33:23.123456Z" -> epoch seconds; false if unparsable. */
bool tl_parse_iso(const char *s, double *out);

/* Convenience setters that ignore allocation failure (the event stays valid). */
void ev_set_str(json_t *ev, const char *key, const char *val);
void ev_set_strn(json_t *ev, const char *key, const char *val, size_t len);
void ev_set_int(json_t *ev, const char *key, long long v);
void ev_set_real(json_t *ev, const char *key, double v);
void ev_set_bool(json_t *ev, const char *key, bool v);

/* TCP (tcp.c). */
int tcp_table_alloc(struct tcp_table **tp, size_t max_flows, size_t max_buf);
void tcp_table_free(struct tcp_table *tt);
void tcp_packet(struct conform_timeline *t, const struct pktinfo *pi, const uint8_t *tcp,
                size_t len);
/* Emits tcp.unanswered for SYNs still open and drops every flow. */
void tcp_flush(struct conform_timeline *t);

/* UDP (udp.c). */
int udp_table_alloc(struct udp_table **up);
void udp_table_free(struct udp_table *ut);
void udp_packet(struct conform_timeline *t, const struct pktinfo *pi, const uint8_t *p, size_t len);
void udp_flush(struct conform_timeline *t);

/* Application decoders (appdec.c). Each returns the number of bytes of `p` that form one
 * complete message it decoded (>0), 0 when more bytes are needed, or -1 when the bytes are
 * not (or no longer) its protocol. */
/* Start line test: 1 SIP, 2 HTTP, 0 need more bytes, -1 neither. */
int text_proto(const uint8_t *p, size_t len);
bool sip_looks_like(const uint8_t *p, size_t len);
long sip_decode(struct conform_timeline *t, const struct pktinfo *pi, const uint8_t *p, size_t len,
                bool stream);
bool http_looks_like(const uint8_t *p, size_t len);
enum http_next { HTTP_NEXT_SAME, HTTP_NEXT_TUNNEL, HTTP_NEXT_OPAQUE };
/* req_method/req_upgrade: per-direction pairing state kept by the caller (the request seen in
 * the other direction); next tells what the stream carries after this message. */
struct http_pair {
	char method[16];
	char uri[256];
	char host[256];
	bool upgrade_ws;
	char protocol[64];
};
long http_decode(struct conform_timeline *t, const struct pktinfo *pi, const uint8_t *p, size_t len,
                 struct http_pair *pair, enum http_next *next);
bool tls_looks_like(const uint8_t *p, size_t len);
/* Decodes ClientHello / alert records; *opaque set when the stream turns opaque (after
 * ChangeCipherSpec/ApplicationData, or any server-side handshake). */
long tls_decode(struct conform_timeline *t, const struct pktinfo *pi, const uint8_t *p, size_t len,
                bool *opaque);
bool stun_decode(struct conform_timeline *t, const struct pktinfo *pi, const uint8_t *p,
                 size_t len);
bool dns_decode(struct conform_timeline *t, const struct pktinfo *pi, const uint8_t *p, size_t len);

/* Hosts (hosts.c): the lab address plan plus additions. */
int hosts_init(struct conform_timeline *t);
void hosts_free(struct conform_timeline *t);
/* Does addr (an address, "ip:port" or "[v6]:port") or a literal name match host pattern? */
bool hosts_match(const struct conform_timeline *t, const char *pattern, const char *value);

/* Address helpers (rules.c). */
/* Extracts the address part of "ip", "ip:port", "[v6]:port" into out; false if not an IP. */
bool addr_part(const char *value, char *out, size_t outlen);

/* Rules (rules.c, rule_match.c; compiled form in rule_int.h). A scenario compiles each
 * check's rule once at load time; judging never reads the rule's JSON again. */
struct rule;
struct match;
/* Compiles (and so validates) a rule; errors name the JSON path. */
int rule_compile(struct rule **rp, const json_t *rule, const char *path, char *err, size_t errlen)
        __attribute__((warn_unused_result));
void rule_free(struct rule *r);
/* What evidence the rule needs, in words (malloc'd). */
char *rule_needs(const struct rule *r, const struct match *witness);
struct rule_out {
	enum conform_verdict verdict;
	char *expected; /* malloc'd */
	char *observed; /* malloc'd */
	char *reason; /* malloc'd or NULL */
	bool unwitnessed; /* failed only because the scenario's witness never happened */
	size_t ev_idx[8];
	size_t n_ev;
};
/* Judges r over t. witness: the scenario's witness MATCH; a forbid (or an expect allowing
 * zero events) fails with "no evidence: ..." when no event matches it. */
void rule_eval(struct conform_timeline *t, const struct rule *r, const struct match *witness,
               struct rule_out *out);
/* Check i of a scenario judged over t (scenario.c), and its needs text (borrowed). */
void scenario_check_eval(const struct conform_scenario *s, size_t i, struct conform_timeline *t,
                         struct rule_out *out);
const char *scenario_check_needs(const struct conform_scenario *s, size_t i);
/* One-line description of an event, for evidence (malloc'd). */
char *event_summary(const json_t *ev);

#endif
