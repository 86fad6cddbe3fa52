/* faults.h - the deliberate non-conformances onsight-ref can switch in (README "Faults").
 *
 * Each fault is one documented deviation from DESIGN §4, so the conformance checks can be
 * shown to catch it. The fault-free endpoint has mask 0.
 */
#ifndef EP_FAULTS_H
#define EP_FAULTS_H

enum fault {
	F_SKIP_OPTIONS_PROBE = 1u << 0,
	F_REGISTER_PRIVATE_ONLY = 1u << 1,
	F_SIP_VIA_PROXY = 1u << 2,
	F_NO_TEAMLINK_FALLBACK = 1u << 3,
	F_TEAMLINK_ALWAYS = 1u << 4,
	F_PROBE_WHEN_DISABLED = 1u << 5,
	F_WRONG_DETECT_TARGET = 1u << 6,
	F_IGNORE_CERT_ERRORS = 1u << 7,
	F_MEDIA_OUT_OF_RANGE = 1u << 8,
	F_NO_REDETECT_ON_MIGRATE = 1u << 9,
	F_HTTP_BEFORE_HTTPS = 1u << 10,
	F_LOGIN_PLAIN_HTTP = 1u << 11,
	F_NO_CONFIG_FETCH = 1u << 12,
	F_SIP_UDP = 1u << 13,
	F_REGISTER_WRONG_SERVER = 1u << 14,
	F_CALL_OUT_WRONG_SERVER = 1u << 15,
	F_NO_RTP = 1u << 16,
	F_MEDIA_BELOW_1024 = 1u << 17,
	F_PROXY_ANY_HOST = 1u << 18,
	F_DIRECT_SIP_WHILE_TUNNELLED = 1u << 19,
	F_NEVER_REGISTER = 1u << 20,
	F_TEAMLINK_WHEN_DISABLED = 1u << 21,
	F_REGISTER_BEFORE_DETECT = 1u << 22,
};

/* The fault bit for name, or 0 if unknown. */
unsigned fault_parse(const char *name);
/* Name of a single fault bit, or NULL. */
const char *fault_name(unsigned bit);
/* One-line description for --help. */
const char *fault_describe(unsigned bit);
/* Number of faults known, and the i-th bit (for listing). */
unsigned fault_count(void);
unsigned fault_bit(unsigned i);

#endif
