/* app.h - the endpoint's behaviour (DESIGN §4): log in, fetch the configuration, Firewall
 * Detect, choose the SIP server and path, register, take and place calls, and start again
 * from detection when the network changes or something fails (with backoff). */
#ifndef EP_APP_H
#define EP_APP_H

struct app_opts {
	const char *oam_url;
	const char *user;
	const char *password;
	const char *ca_file;
	const char *proxy; /* --proxy HOST:PORT or NULL */
	const char *device_id;
	int auto_answer;
	const char *call_uri;
	unsigned call_after_s;
	unsigned call_hold_s;
	unsigned faults;
	const char *events;
	const char *keylog;
	unsigned detect_timeout_ms;
	unsigned sip_timeout_ms;
	unsigned http_timeout_ms;
	unsigned duration_s; /* 0: run until SIGTERM */
	unsigned retry_min_ms, retry_max_ms;
	int stdout_fd; /* status lines (1), -1 for none */
	int no_netwatch;
	/* Firewall Detect ports (0: the note's 5060, 5061, 3478, 15000); tests on loopback
	 * cannot bind those. */
	unsigned detect_ports[4];
};

/* Runs until --duration passes or SIGTERM/SIGINT. Returns the exit status. */
int app_run(const struct app_opts *o);

#endif
