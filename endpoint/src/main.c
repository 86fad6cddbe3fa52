/* onsight-ref - the reference Onsight endpoint with switchable faults (DESIGN §4). */
#define LOG_TAG "main"
#include "app.h"
#include "faults.h"

#include "onsight/log.h"
#include "onsight/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: onsight-ref --oam URL --user NAME --password-file F --ca F [options]\n"
	        "  --oam URL              account manager, e.g. https://onsight.librestream.com\n"
	        "  --user NAME            account name\n"
	        "  --password-file F      file holding the password (one line)\n"
	        "  --ca F                 CA certificates (PEM) every HTTPS and TLS peer must "
	        "chain to\n"
	        "  --proxy HOST:PORT      web proxy for HTTPS (default: the configured one)\n"
	        "  --device-id ID         device id sent at login (default onsight-ref)\n"
	        "  --auto-answer          answer incoming calls\n"
	        "  --call URI             place a call after registering\n"
	        "  --call-after S         seconds to wait before the call (default 1)\n"
	        "  --call-hold S          seconds the call lasts before BYE (default 5)\n"
	        "  --fault NAME           switch in a deliberate deviation (repeatable; see "
	        "below)\n"
	        "  --events F             also write the status lines to F\n"
	        "  --keylog F             TLS key log (NSS format) for captures\n"
	        "  --detect-timeout MS    per-probe timeout of Firewall Detect/OPTIONS (default "
	        "2000)\n"
	        "  --sip-timeout MS       SIP transaction and connect timeout (default 4000)\n"
	        "  --http-timeout MS      HTTPS request timeout (default 8000)\n"
	        "  --retry-min MS, --retry-max MS  backoff bounds (default 500, 10000)\n"
	        "  --duration S           stop after S seconds (default: until SIGTERM)\n"
	        "  --no-netwatch          do not watch the network for changes\n"
	        "  --detect-ports A,B,C,D Firewall Detect ports instead of 5060,5061,3478,15000\n"
	        "                         (tests on loopback)\n"
	        "  --log-level L          err|warn|info|debug (stderr)\n"
	        "  --help, --version\n"
	        "Status: JSON Lines on stdout. Faults:\n");
	for (unsigned i = 0; i < fault_count(); i++)
		fprintf(f, "  %-27s %s\n", fault_name(fault_bit(i)), fault_describe(fault_bit(i)));
}

static int num(const char *s, unsigned long max, unsigned *out)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !end || *end || end == s || v > max)
		return EINVAL;
	*out = (unsigned)v;
	return 0;
}

enum {
	O_OAM = 256,
	O_USER,
	O_PWFILE,
	O_CA,
	O_PROXY,
	O_DEVICE,
	O_AUTO,
	O_CALL,
	O_CALL_AFTER,
	O_CALL_HOLD,
	O_FAULT,
	O_EVENTS,
	O_KEYLOG,
	O_DETECT_TMO,
	O_SIP_TMO,
	O_HTTP_TMO,
	O_RMIN,
	O_RMAX,
	O_DURATION,
	O_NONET,
	O_LOGLEVEL,
	O_HELP,
	O_VERSION,
	O_DPORTS
};

/* "SIP,SIPS,STUN,MEDIA" */
static int parse_ports(const char *s, unsigned out[4])
{
	if (sscanf(s, "%u,%u,%u,%u", &out[0], &out[1], &out[2], &out[3]) != 4)
		return EINVAL;
	for (int i = 0; i < 4; i++)
		if (out[i] == 0 || out[i] > 65535)
			return EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	        {"oam", 1, 0, O_OAM},
	        {"user", 1, 0, O_USER},
	        {"password-file", 1, 0, O_PWFILE},
	        {"ca", 1, 0, O_CA},
	        {"proxy", 1, 0, O_PROXY},
	        {"device-id", 1, 0, O_DEVICE},
	        {"auto-answer", 0, 0, O_AUTO},
	        {"call", 1, 0, O_CALL},
	        {"call-after", 1, 0, O_CALL_AFTER},
	        {"call-hold", 1, 0, O_CALL_HOLD},
	        {"fault", 1, 0, O_FAULT},
	        {"events", 1, 0, O_EVENTS},
	        {"keylog", 1, 0, O_KEYLOG},
	        {"detect-timeout", 1, 0, O_DETECT_TMO},
	        {"sip-timeout", 1, 0, O_SIP_TMO},
	        {"http-timeout", 1, 0, O_HTTP_TMO},
	        {"retry-min", 1, 0, O_RMIN},
	        {"retry-max", 1, 0, O_RMAX},
	        {"duration", 1, 0, O_DURATION},
	        {"no-netwatch", 0, 0, O_NONET},
	        {"detect-ports", 1, 0, O_DPORTS},
	        {"log-level", 1, 0, O_LOGLEVEL},
	        {"help", 0, 0, O_HELP},
	        {"version", 0, 0, O_VERSION},
	        {0, 0, 0, 0},
	};
	struct app_opts o;
	const char *pwfile = NULL, *lvl = "warn";
	char *password = NULL;
	size_t pwlen = 0;
	int c, bad = 0, rc;

	memset(&o, 0, sizeof(o));
	o.device_id = "onsight-ref";
	o.call_after_s = 1;
	o.call_hold_s = 5;
	o.detect_timeout_ms = 2000;
	o.sip_timeout_ms = 4000;
	o.http_timeout_ms = 8000;
	o.retry_min_ms = 500;
	o.retry_max_ms = 10000;
	o.stdout_fd = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		unsigned f;

		switch (c) {
		case O_OAM:
			o.oam_url = optarg;
			break;
		case O_USER:
			o.user = optarg;
			break;
		case O_PWFILE:
			pwfile = optarg;
			break;
		case O_CA:
			o.ca_file = optarg;
			break;
		case O_PROXY:
			o.proxy = optarg;
			break;
		case O_DEVICE:
			o.device_id = optarg;
			break;
		case O_AUTO:
			o.auto_answer = 1;
			break;
		case O_CALL:
			o.call_uri = optarg;
			break;
		case O_CALL_AFTER:
			bad |= num(optarg, 86400, &o.call_after_s);
			break;
		case O_CALL_HOLD:
			bad |= num(optarg, 86400, &o.call_hold_s);
			break;
		case O_FAULT:
			f = fault_parse(optarg);
			if (!f) {
				fprintf(stderr, "onsight-ref: unknown fault \"%s\" (see --help)\n",
				        optarg);
				return 2;
			}
			o.faults |= f;
			break;
		case O_EVENTS:
			o.events = optarg;
			break;
		case O_KEYLOG:
			o.keylog = optarg;
			break;
		case O_DETECT_TMO:
			bad |= num(optarg, 60000, &o.detect_timeout_ms);
			break;
		case O_SIP_TMO:
			bad |= num(optarg, 60000, &o.sip_timeout_ms);
			break;
		case O_HTTP_TMO:
			bad |= num(optarg, 120000, &o.http_timeout_ms);
			break;
		case O_RMIN:
			bad |= num(optarg, 600000, &o.retry_min_ms);
			break;
		case O_RMAX:
			bad |= num(optarg, 600000, &o.retry_max_ms);
			break;
		case O_DURATION:
			bad |= num(optarg, 7 * 86400, &o.duration_s);
			break;
		case O_NONET:
			o.no_netwatch = 1;
			break;
		case O_DPORTS:
			bad |= parse_ports(optarg, o.detect_ports);
			break;
		case O_LOGLEVEL:
			lvl = optarg;
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		case O_VERSION:
			printf("onsight-ref %s\n", ONSIGHT_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (bad || optind != argc || !o.oam_url || !o.user || !pwfile || !o.ca_file ||
	    o.detect_timeout_ms == 0 || o.sip_timeout_ms == 0 || o.http_timeout_ms == 0 ||
	    o.retry_min_ms == 0 || o.retry_max_ms < o.retry_min_ms) {
		fprintf(stderr,
		        "onsight-ref: --oam, --user, --password-file and --ca are required; "
		        "numbers must be positive (see --help)\n");
		return 2;
	}
	/* Login carries the password: HTTPS only (note §1). */
	if (strncmp(o.oam_url, "https://", 8) != 0 || strlen(o.oam_url) > 400) {
		fprintf(stderr, "onsight-ref: --oam must be an https:// URL\n");
		return 2;
	}
	if (log_level_parse(lvl) < 0) {
		fprintf(stderr, "onsight-ref: unknown log level %s\n", lvl);
		return 2;
	}
	log_init("onsight-ref", (enum log_level)log_level_parse(lvl));
	rc = file_read_secret(pwfile, &password, &pwlen);
	if (rc) {
		fprintf(stderr, "onsight-ref: %s: %s\n", pwfile, strerror(rc));
		return 2;
	}
	o.password = password;
	util_ignore_sigpipe();
	rc = app_run(&o);
	free(password);
	return rc;
}
