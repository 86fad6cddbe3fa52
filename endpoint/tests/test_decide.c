/* test_decide - Firewall Detect target, path, server choice and tunnel schemes, with and
 * without faults (DESIGN §4, note §4 and §5.3). */
#include "decide.h"
#include "faults.h"

#include "testutil.h"

#include <string.h>

static void base(struct epconfig *c)
{
	memset(c, 0, sizeof(*c));
	c->transport = EPC_TCP;
	c->pub = (struct epc_hostport){1, "sip.librestream.com", 5060};
	c->tl_enabled = 1;
	c->detect_method = EPC_DETECT_SIP;
	strcpy(c->tcm[0], "tcm.librestream.com");
	c->ntcm = 1;
	strcpy(c->servers[0], "teamlink1.librestream.com");
	c->nservers = 1;
	c->port_min = 15000;
	c->port_max = 65000;
}

START_TEST(test_detect_runs_only_when_teamlink_is_enabled)
{
	struct epconfig c;

	base(&c);
	ck_assert(decide_detect_runs(&c, 0));
	c.tl_enabled = 0;
	ck_assert(!decide_detect_runs(&c, 0));
	ck_assert(decide_detect_runs(&c, F_PROBE_WHEN_DISABLED));
}
END_TEST

START_TEST(test_detect_target_follows_detect_method)
{
	struct epconfig c;

	base(&c);
	ck_assert_str_eq(decide_detect_target(&c, 0), "sip.librestream.com");
	c.detect_method = EPC_DETECT_TCM;
	ck_assert_str_eq(decide_detect_target(&c, 0), "tcm.librestream.com");
	c.detect_method = EPC_DETECT_TEAMLINK;
	ck_assert_str_eq(decide_detect_target(&c, 0), "teamlink1.librestream.com");
	c.nservers = 0;
	ck_assert_ptr_null(decide_detect_target(&c, 0));
}
END_TEST

START_TEST(test_wrong_detect_target_fault_probes_another_server)
{
	struct epconfig c;

	base(&c);
	ck_assert_str_eq(decide_detect_target(&c, F_WRONG_DETECT_TARGET), "tcm.librestream.com");
	c.detect_method = EPC_DETECT_TCM;
	ck_assert_str_eq(decide_detect_target(&c, F_WRONG_DETECT_TARGET), "sip.librestream.com");
}
END_TEST

START_TEST(test_probe_plan_adds_tls_only_for_tls_transport)
{
	struct epconfig c;
	struct probe_plan p[4];

	base(&c);
	ck_assert_uint_eq(decide_probes(&c, p), 3);
	ck_assert_str_eq(p[0].proto, "tcp-sip");
	ck_assert_uint_eq(p[0].port, 5060);
	ck_assert_str_eq(p[1].proto, "stun");
	ck_assert_uint_eq(p[1].port, 3478);
	ck_assert_uint_eq(p[2].port, 15000);
	c.transport = EPC_TLS;
	ck_assert_uint_eq(decide_probes(&c, p), 4);
	ck_assert_str_eq(p[1].proto, "tls-sip");
	ck_assert_uint_eq(p[1].port, 5061);
}
END_TEST

START_TEST(test_path_is_direct_when_open_and_teamlink_when_closed)
{
	struct epconfig c;
	const char *why;

	base(&c);
	ck_assert_int_eq(decide_path(&c, 0, 1, 1, &why), PATH_DIRECT);
	ck_assert_int_eq(decide_path(&c, 0, 1, 0, &why), PATH_TEAMLINK);
	ck_assert_int_eq(decide_path(&c, F_NO_TEAMLINK_FALLBACK, 1, 0, &why), PATH_DIRECT);
	ck_assert_int_eq(decide_path(&c, F_TEAMLINK_ALWAYS, 1, 1, &why), PATH_TEAMLINK);
	c.tl_enabled = 0;
	ck_assert_int_eq(decide_path(&c, 0, 1, 0, &why), PATH_DIRECT);
	ck_assert_int_eq(decide_path(&c, F_TEAMLINK_ALWAYS, 1, 0, &why), PATH_DIRECT);
	ck_assert_int_eq(decide_path(&c, 0, 0, 0, &why), PATH_DIRECT);
	ck_assert_int_eq(decide_path(&c, F_TEAMLINK_WHEN_DISABLED, 0, 0, &why), PATH_TEAMLINK);
	c.tl_enabled = 1;
	ck_assert_int_eq(decide_path(&c, F_TEAMLINK_WHEN_DISABLED, 1, 1, &why), PATH_DIRECT);
}
END_TEST

START_TEST(test_server_choice_asks_private_only_when_both_are_set)
{
	struct epconfig c;
	const char *why;

	base(&c);
	ck_assert_int_eq(decide_server(&c, 0, &why), CHOOSE_PUBLIC);
	c.priv = (struct epc_hostport){1, "vcs-control.corp.example", 5060};
	ck_assert_int_eq(decide_server(&c, 0, &why), CHOOSE_ASK_PRIVATE);
	ck_assert_int_eq(decide_server(&c, F_SKIP_OPTIONS_PROBE, &why), CHOOSE_PUBLIC);
	ck_assert_int_eq(decide_server(&c, F_REGISTER_PRIVATE_ONLY, &why), CHOOSE_PRIVATE);
	c.pub.set = 0;
	ck_assert_int_eq(decide_server(&c, 0, &why), CHOOSE_PRIVATE);
}
END_TEST

START_TEST(test_schemes_follow_connection_and_fault)
{
	struct epconfig c;
	const char *s[2];

	base(&c);
	ck_assert_uint_eq(decide_schemes(&c, 0, s), 2);
	ck_assert_str_eq(s[0], "https");
	ck_assert_str_eq(s[1], "http");
	c.connection = EPC_CONN_HTTPS;
	ck_assert_uint_eq(decide_schemes(&c, 0, s), 1);
	ck_assert_str_eq(s[0], "https");
	c.connection = EPC_CONN_HTTP;
	ck_assert_uint_eq(decide_schemes(&c, 0, s), 1);
	ck_assert_str_eq(s[0], "http");
	c.connection = EPC_CONN_AUTO;
	ck_assert_uint_eq(decide_schemes(&c, F_HTTP_BEFORE_HTTPS, s), 2);
	ck_assert_str_eq(s[0], "http");
}
END_TEST

START_TEST(test_login_plain_http_fault_logs_in_on_port_80)
{
	char u[128];

	ck_assert_int_eq(decide_oam_url("https://onsight.librestream.com", 0, u, sizeof(u)), 0);
	ck_assert_str_eq(u, "https://onsight.librestream.com");
	ck_assert_int_eq(
	        decide_oam_url("https://onsight.librestream.com", F_LOGIN_PLAIN_HTTP, u, sizeof(u)),
	        0);
	ck_assert_str_eq(u, "http://onsight.librestream.com");
	ck_assert_int_eq(
	        decide_oam_url("https://127.0.0.1:8443/base", F_LOGIN_PLAIN_HTTP, u, sizeof(u)), 0);
	ck_assert_str_eq(u, "http://127.0.0.1/base");
	ck_assert_int_eq(decide_oam_url("https://[::1]:8443", F_LOGIN_PLAIN_HTTP, u, sizeof(u)), 0);
	ck_assert_str_eq(u, "http://[::1]");
	ck_assert_int_ne(decide_oam_url("ftp://x", F_LOGIN_PLAIN_HTTP, u, sizeof(u)), 0);
	ck_assert_int_ne(decide_oam_url("https://onsight.librestream.com", 0, u, 8), 0);
}
END_TEST

START_TEST(test_no_config_fetch_fault_falls_back_to_the_cloud_on_tcp)
{
	struct epconfig c;

	ck_assert(decide_fetch_config(0));
	ck_assert(!decide_fetch_config(F_NO_CONFIG_FETCH));
	decide_builtin_config(&c, "alice", "alice-pw");
	ck_assert_str_eq(c.sip_uri, "sip:alice@librestream.com");
	ck_assert_str_eq(c.auth_user, "alice");
	ck_assert_str_eq(c.auth_password, "alice-pw");
	ck_assert(c.pub.set);
	ck_assert_str_eq(c.pub.host, "sip.librestream.com");
	ck_assert_uint_eq(c.pub.port, 5060);
	ck_assert_int_eq(c.transport, EPC_TCP);
	ck_assert(!c.priv.set);
	ck_assert(!c.tl_enabled);
	ck_assert_uint_le(c.port_min, c.port_max);
}
END_TEST

START_TEST(test_never_register_fault_stops_before_registering)
{
	ck_assert(decide_registers(0));
	ck_assert(!decide_registers(F_NEVER_REGISTER));
	ck_assert(decide_registers(F_SIP_UDP | F_NO_RTP));
}
END_TEST

START_TEST(test_register_before_detect_fault_puts_detection_second)
{
	ck_assert(decide_detect_first(0));
	ck_assert(decide_detect_first(F_TEAMLINK_ALWAYS | F_NEVER_REGISTER));
	ck_assert(!decide_detect_first(F_REGISTER_BEFORE_DETECT));
}
END_TEST

START_TEST(test_sip_udp_fault_turns_tcp_into_udp_only)
{
	struct epconfig c;

	base(&c);
	ck_assert_int_eq(decide_sip_transport(&c, 0), EPC_TCP);
	ck_assert_int_eq(decide_sip_transport(&c, F_SIP_UDP), EPC_UDP);
	c.transport = EPC_TLS;
	ck_assert_int_eq(decide_sip_transport(&c, F_SIP_UDP), EPC_TLS);
	c.transport = EPC_UDP;
	ck_assert_int_eq(decide_sip_transport(&c, 0), EPC_UDP);
}
END_TEST

START_TEST(test_register_wrong_server_fault_registers_to_the_cloud)
{
	struct epconfig c;
	struct epc_hostport priv = {1, "vcs-control.corp.example", 5070}, out;

	base(&c);
	decide_registrar(&c, 0, &priv, &out);
	ck_assert_str_eq(out.host, "vcs-control.corp.example");
	ck_assert_uint_eq(out.port, 5070);
	decide_registrar(&c, F_REGISTER_WRONG_SERVER, &priv, &out);
	ck_assert_str_eq(out.host, "sip.librestream.com");
	ck_assert_uint_eq(out.port, 5060);
	c.transport = EPC_TLS;
	decide_registrar(&c, F_REGISTER_WRONG_SERVER, &priv, &out);
	ck_assert_uint_eq(out.port, 5061);
}
END_TEST

START_TEST(test_call_out_wrong_server_fault_routes_the_invite_to_the_cloud)
{
	struct epconfig c;
	struct epc_hostport out;

	base(&c);
	ck_assert_int_eq(decide_call_route(&c, 0, &out), 0);
	ck_assert_int_eq(decide_call_route(&c, F_REGISTER_WRONG_SERVER, &out), 0);
	ck_assert_int_eq(decide_call_route(&c, F_CALL_OUT_WRONG_SERVER, &out), 1);
	ck_assert_str_eq(out.host, "sip.librestream.com");
	ck_assert_uint_eq(out.port, 5060);
}
END_TEST

START_TEST(test_every_fault_has_a_name_that_parses_back)
{
	unsigned i, seen = 0;

	ck_assert_uint_eq(fault_count(), 23);
	for (i = 0; i < fault_count(); i++) {
		unsigned b = fault_bit(i);

		ck_assert_uint_eq(fault_parse(fault_name(b)), b);
		ck_assert_ptr_nonnull(fault_describe(b));
		ck_assert_uint_eq(seen & b, 0);
		seen |= b;
	}
	ck_assert_uint_eq(fault_parse("no-such-fault"), 0);
}
END_TEST

TU_SUITE("decide", test_detect_runs_only_when_teamlink_is_enabled,
         test_detect_target_follows_detect_method,
         test_wrong_detect_target_fault_probes_another_server,
         test_probe_plan_adds_tls_only_for_tls_transport,
         test_path_is_direct_when_open_and_teamlink_when_closed,
         test_server_choice_asks_private_only_when_both_are_set,
         test_schemes_follow_connection_and_fault, test_login_plain_http_fault_logs_in_on_port_80,
         test_no_config_fetch_fault_falls_back_to_the_cloud_on_tcp,
         test_never_register_fault_stops_before_registering,
         test_register_before_detect_fault_puts_detection_second,
         test_sip_udp_fault_turns_tcp_into_udp_only,
         test_register_wrong_server_fault_registers_to_the_cloud,
         test_call_out_wrong_server_fault_routes_the_invite_to_the_cloud,
         test_every_fault_has_a_name_that_parses_back)
