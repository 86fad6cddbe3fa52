/* faults.c - names and descriptions of the switchable faults. */
#include "faults.h"

#include <string.h>

static const struct {
	unsigned bit;
	const char *name;
	const char *what;
} faults[] = {
        {F_SKIP_OPTIONS_PROBE, "skip-options-probe",
         "both SIP servers configured: register to the public one without asking the private"},
        {F_REGISTER_PRIVATE_ONLY, "register-private-only",
         "both SIP servers configured: register to the private one, never fall back"},
        {F_SIP_VIA_PROXY, "sip-via-proxy",
         "direct SIP goes through the web proxy with CONNECT instead of straight to the server"},
        {F_NO_TEAMLINK_FALLBACK, "no-teamlink-fallback",
         "Firewall Detect finds ports closed, the endpoint registers directly anyway"},
        {F_TEAMLINK_ALWAYS, "teamlink-always",
         "the endpoint uses the TeamLink tunnel even when Firewall Detect finds ports open"},
        {F_PROBE_WHEN_DISABLED, "probe-when-disabled",
         "Firewall Detect runs although TeamLink is disabled"},
        {F_WRONG_DETECT_TARGET, "wrong-detect-target",
         "Firewall Detect probes another test server than detect_method selects"},
        {F_IGNORE_CERT_ERRORS, "ignore-cert-errors",
         "HTTPS certificates are not verified (expired, wrong name, untrusted accepted)"},
        {F_MEDIA_OUT_OF_RANGE, "media-out-of-range",
         "RTP uses a local port below the configured media range"},
        {F_NO_REDETECT_ON_MIGRATE, "no-redetect-on-migrate",
         "a network change is reported but detection and registration are not re-run"},
        {F_HTTP_BEFORE_HTTPS, "http-before-https",
         "the TeamLink tunnel tries HTTP on 80 before HTTPS on 443"},
        {F_LOGIN_PLAIN_HTTP, "login-plain-http",
         "logs in to OAM over plain HTTP on port 80 instead of HTTPS"},
        {F_NO_CONFIG_FETCH, "no-config-fetch",
         "logs in but never fetches the configuration: built-in defaults (sip.librestream.com, "
         "TCP 5060)"},
        {F_SIP_UDP, "sip-udp",
         "direct SIP (REGISTER, INVITE, OPTIONS) over UDP where the "
         "account says TCP"},
        {F_REGISTER_WRONG_SERVER, "register-wrong-server",
         "registers to the cloud server sip.librestream.com although an enterprise server is "
         "configured"},
        {F_CALL_OUT_WRONG_SERVER, "call-out-wrong-server",
         "the outgoing INVITE goes straight to sip.librestream.com, not through the registrar"},
        {F_NO_RTP, "no-rtp", "answers and places calls but never sends RTP or RTCP"},
        {F_MEDIA_BELOW_1024, "media-below-1024",
         "RTP/RTCP from a port pair below 1024 (a privileged port, not just under the range)"},
        {F_PROXY_ANY_HOST, "proxy-any-host",
         "through the web proxy, also CONNECTs to a host not on the allow-list first"},
        {F_DIRECT_SIP_WHILE_TUNNELLED, "direct-sip-while-tunnelled",
         "while registered through TeamLink, tries direct TCP to the SIP server on 5060/5061 "
         "every second"},
        {F_NEVER_REGISTER, "never-register",
         "logs in and fetches the configuration, then never registers"},
        {F_TEAMLINK_WHEN_DISABLED, "teamlink-when-disabled",
         "TeamLink disabled in the configuration: the endpoint tunnels through TeamLink anyway"},
        {F_REGISTER_BEFORE_DETECT, "register-before-detect",
         "TeamLink enabled: registers directly first, runs Firewall Detect only after that"},
};

unsigned fault_parse(const char *name)
{
	for (unsigned i = 0; name && i < sizeof(faults) / sizeof(faults[0]); i++)
		if (strcmp(faults[i].name, name) == 0)
			return faults[i].bit;
	return 0;
}

const char *fault_name(unsigned bit)
{
	for (unsigned i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		if (faults[i].bit == bit)
			return faults[i].name;
	return NULL;
}

const char *fault_describe(unsigned bit)
{
	for (unsigned i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		if (faults[i].bit == bit)
			return faults[i].what;
	return NULL;
}

unsigned fault_count(void)
{
	return sizeof(faults) / sizeof(faults[0]);
}

unsigned fault_bit(unsigned i)
{
	return i < fault_count() ? faults[i].bit : 0;
}
