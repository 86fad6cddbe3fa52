/* timeline.c - the event list: captures and journals merged, sorted by time, saved as JSON. */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis_int.h"
#include "pcapread.h"

#define JOURNAL_MAX_LINE 65536
#define JOURNAL_MAX_FILE (512u * 1024 * 1024)

int conform_timeline_alloc(struct conform_timeline **tp, const struct conform_timeline_limits *lim)
{
	struct conform_timeline *t = NULL;
	int err = 0;

	if (!tp)
		return EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	t->lim.max_events = 2000000;
	t->lim.max_flows = 65536;
	t->lim.max_stream_buf = 256 * 1024;
	t->lim.rtp_port_min = 1;
	t->lim.rtp_port_max = 65535;
	if (lim) {
		if (lim->max_events)
			t->lim.max_events = lim->max_events;
		if (lim->max_flows)
			t->lim.max_flows = lim->max_flows;
		if (lim->max_stream_buf)
			t->lim.max_stream_buf = lim->max_stream_buf;
		if (lim->rtp_port_min)
			t->lim.rtp_port_min = lim->rtp_port_min;
		if (lim->rtp_port_max)
			t->lim.rtp_port_max = lim->rtp_port_max;
	}
	t->sorted = true;
	err = tcp_table_alloc(&t->tcp, t->lim.max_flows, t->lim.max_stream_buf);
	if (err)
		goto out;
	err = udp_table_alloc(&t->udp);
	if (err)
		goto out;
	err = hosts_init(t);
	if (err)
		goto out;
	*tp = t;
	t = NULL;
out:
	conform_timeline_free(t);
	return err;
}

void conform_timeline_free(struct conform_timeline *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		json_decref(t->ev[i].ev);
	free(t->ev);
	tcp_table_free(t->tcp);
	udp_table_free(t->udp);
	hosts_free(t);
	free(t);
}

static int tl_push(struct conform_timeline *t, double when, json_t *ev)
{
	if (t->n >= t->lim.max_events) {
		t->st.dropped_events++;
		json_decref(ev);
		return ENOSPC;
	}
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 1024;
		struct tl_slot *ns = realloc(t->ev, nc * sizeof(*ns));

		if (!ns) {
			json_decref(ev);
			return ENOMEM;
		}
		t->ev = ns;
		t->cap = nc;
	}
	if (t->n && when < t->ev[t->n - 1].t)
		t->sorted = false;
	t->ev[t->n].t = when;
	t->ev[t->n].seq = t->n;
	t->ev[t->n].ev = ev;
	t->n++;
	return 0;
}

void ev_set_str(json_t *ev, const char *key, const char *val)
{
	if (val)
		json_object_set_new(ev, key, json_string(val));
}

void ev_set_strn(json_t *ev, const char *key, const char *val, size_t len)
{
	json_t *s = json_stringn(val, len);

	/* Bytes off the wire need not be UTF-8: keep them readable rather than lose the event. */
	if (!s) {
		char buf[AN_MAX_HDRVAL + 1];
		size_t n = len < AN_MAX_HDRVAL ? len : AN_MAX_HDRVAL;

		for (size_t i = 0; i < n; i++)
			buf[i] = (val[i] >= 0x20 && val[i] < 0x7f) ? val[i] : '?';
		buf[n] = '\0';
		s = json_string(buf);
	}
	if (s)
		json_object_set_new(ev, key, s);
}

void ev_set_int(json_t *ev, const char *key, long long v)
{
	json_object_set_new(ev, key, json_integer(v));
}

void ev_set_real(json_t *ev, const char *key, double v)
{
	json_object_set_new(ev, key, json_real(v));
}

void ev_set_bool(json_t *ev, const char *key, bool v)
{
	json_object_set_new(ev, key, json_boolean(v));
}

const char *port_service(unsigned port)
{
	static const struct {
		unsigned port;
		const char *name;
	} svc[] = {
	        {5060, "sip"}, {5061, "sip-tls"}, {3478, "stun"},       {443, "https"},
	        {80, "http"},  {53, "dns"},       {3128, "http-proxy"},
	};

	for (size_t i = 0; i < ARRAY_LEN(svc); i++)
		if (svc[i].port == port)
			return svc[i].name;
	return NULL;
}

json_t *tl_add_pcap_event(struct conform_timeline *t, const struct pktinfo *pi, const char *kind)
{
	char src[128], sip[INET6_ADDRSTRLEN], dip[INET6_ADDRSTRLEN];
	json_t *ev;

	if (t->n >= t->lim.max_events) {
		t->st.dropped_events++;
		return NULL;
	}
	ev = json_object();
	if (!ev)
		return NULL;
	snprintf(src, sizeof(src), "pcap:%s#%ld", t->capture ? t->capture : "capture", pi->frame);
	ev_set_real(ev, "t", pi->t);
	ev_set_str(ev, "src", src);
	ev_set_str(ev, "kind", kind);
	ev_set_str(ev, "capture", t->capture ? t->capture : "capture");
	ev_set_int(ev, "frame", pi->frame);
	inet_ntop(pi->af, pi->sa, sip, sizeof(sip));
	inet_ntop(pi->af, pi->da, dip, sizeof(dip));
	ev_set_str(ev, "src_ip", sip);
	ev_set_int(ev, "src_port", pi->sport);
	ev_set_str(ev, "dst_ip", dip);
	ev_set_int(ev, "dst_port", pi->dport);
	ev_set_str(ev, "proto", pi->proto);
	ev_set_str(ev, "dst_service", port_service(pi->dport));
	if (tl_push(t, pi->t, ev))
		return NULL;
	return ev;
}

int tl_add_json_event(struct conform_timeline *t, double when, json_t *ev)
{
	return tl_push(t, when, ev);
}

bool tl_parse_iso(const char *s, double *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0;
	double frac = 0;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return false;
	s += n;
	if (*s == '.') {
		double scale = 0.1;

		for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10)
			frac += (*s - '0') * scale;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t base = timegm(&tm);
	if (*s == 'Z' || *s == '\0') {
		/* UTC */
	} else if ((*s == '+' || *s == '-') && strlen(s) >= 6) {
		int oh = 0, om = 0;

		if (sscanf(s + 1, "%2d:%2d", &oh, &om) != 2)
			return false;
		long off = oh * 3600L + om * 60L;
		base -= (*s == '+') ? off : -off;
	} else {
		return false;
	}
	*out = (double)base + frac;
	return true;
}

static int journal_line(struct conform_timeline *t, const char *line, size_t len,
                        const char *service)
{
	json_error_t jerr;
	json_t *o = json_loadb(line, len, JSON_DISABLE_EOF_CHECK, &jerr);
	const char *ts, *event, *svc;
	double when;
	char kind[256];

	if (!o || !json_is_object(o))
		goto skip;
	ts = json_string_value(json_object_get(o, "ts"));
	event = json_string_value(json_object_get(o, "event"));
	if (!ts || !event || !tl_parse_iso(ts, &when))
		goto skip;
	/* The timeline's own keys win; a journal field of the same name is kept as j_NAME. */
	for (size_t i = 0; i < 3; i++) {
		static const char *const reserved[] = {"t", "src", "kind"};
		json_t *v = json_object_get(o, reserved[i]);

		if (v) {
			char k[16];

			snprintf(k, sizeof(k), "j_%s", reserved[i]);
			json_object_set(o, k, v);
			json_object_del(o, reserved[i]);
		}
	}
	svc = json_string_value(json_object_get(o, "service"));
	if (!svc) {
		ev_set_str(o, "service", service);
		svc = service;
	}
	{
		char src[160];

		snprintf(src, sizeof(src), "journal:%.140s", svc);
		snprintf(kind, sizeof(kind), "%.120s.%.120s", svc, event);
		ev_set_real(o, "t", when);
		ev_set_str(o, "src", src);
		ev_set_str(o, "kind", kind);
	}
	t->st.journal_lines++;
	return tl_add_json_event(t, when, o) == ENOMEM ? ENOMEM : 0;
skip:
	json_decref(o);
	t->st.journal_skipped++;
	return 0;
}

int conform_timeline_add_journal_mem(struct conform_timeline *t, const char *text, size_t len,
                                     const char *service, char *err, size_t errlen)
{
	size_t i = 0;

	if (!t || (!text && len))
		return EINVAL;
	if (!service)
		service = "journal";
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (text + i)) : len - i;

		if (l > JOURNAL_MAX_LINE) {
			t->st.journal_skipped++;
		} else if (l > 0) {
			int e = journal_line(t, text + i, l, service);

			if (e) {
				snprintf(err, errlen, "journal: out of memory");
				return e;
			}
		}
		i += l + 1;
	}
	t->sorted = false;
	return 0;
}

int conform_timeline_add_journal(struct conform_timeline *t, const char *path, const char *service,
                                 char *err, size_t errlen)
{
	char svc[128];
	FILE *f = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;

	if (!t || !path)
		return EINVAL;
	if (!service) {
		const char *b = strrchr(path, '/');

		str_copy_basename(svc, sizeof(svc), b ? b + 1 : path);
		service = svc;
	}
	f = fopen(path, "r");
	if (!f) {
		rc = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(rc));
		goto out;
	}
	for (;;) {
		if (len + 65536 + 1 > cap) {
			size_t nc = cap ? cap * 2 : 131072;
			char *nb;

			if (nc > JOURNAL_MAX_FILE) {
				rc = EFBIG;
				snprintf(err, errlen, "%s: larger than %u bytes", path,
				         JOURNAL_MAX_FILE);
				goto out;
			}
			nb = realloc(buf, nc);
			if (!nb) {
				rc = ENOMEM;
				goto out;
			}
			buf = nb;
			cap = nc;
		}
		size_t r = fread(buf + len, 1, cap - len - 1, f);

		len += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		rc = EIO;
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	rc = conform_timeline_add_journal_mem(t, buf ? buf : "", len, service, err, errlen);
out:
	if (f)
		fclose(f);
	free(buf);
	return rc;
}

void str_copy_basename(char *dst, size_t size, const char *name)
{
	size_t n = strcspn(name, ".");

	if (n >= size)
		n = size - 1;
	memcpy(dst, name, n);
	dst[n] = '\0';
}

static int slot_cmp(const void *a, const void *b)
{
	const struct tl_slot *x = a, *y = b;

	if (x->t < y->t)
		return -1;
	if (x->t > y->t)
		return 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Sets key to the host name of the address in the event's field addr_key, when known. */
static void name_addr(struct conform_timeline *t, json_t *ev, const char *addr_key, const char *key,
                      bool bare)
{
	const char *v = json_string_value(json_object_get(ev, addr_key));
	const char *name = v ? conform_hosts_name(t, v) : NULL;
	char addr[64];

	if (name)
		ev_set_str(ev, key, name);
	else if (bare && v && addr_part(v, addr, sizeof(addr)))
		ev_set_str(ev, key, addr);
}

/* Names the hosts of the events added since the last call from the host table as it is now:
 * src_host/dst_host on packets, `at` (the server the client reached) on journal lines with
 * `local`. Done here rather than when an event is added so a plan loaded after the captures
 * still names them. */
static void name_events(struct conform_timeline *t)
{
	for (size_t i = t->named; i < t->n; i++) {
		json_t *ev = t->ev[i].ev;
		const char *src = json_string_value(json_object_get(ev, "src"));

		if (!src)
			continue;
		if (!strncmp(src, "pcap:", 5)) {
			name_addr(t, ev, "src_ip", "src_host", false);
			name_addr(t, ev, "dst_ip", "dst_host", false);
		} else if (!strncmp(src, "journal:", 8)) {
			name_addr(t, ev, "local", "at", true);
		}
	}
	t->named = t->n;
}

void conform_timeline_finish(struct conform_timeline *t)
{
	if (!t)
		return;
	tcp_flush(t);
	udp_flush(t);
	name_events(t);
	if (!t->sorted && t->n > 1) {
		qsort(t->ev, t->n, sizeof(*t->ev), slot_cmp);
		for (size_t i = 0; i < t->n; i++)
			t->ev[i].seq = i;
		t->sorted = true;
	}
}

size_t conform_timeline_count(struct conform_timeline *t)
{
	if (!t)
		return 0;
	conform_timeline_finish(t);
	return t->n;
}

const json_t *conform_timeline_event(struct conform_timeline *t, size_t i)
{
	if (!t)
		return NULL;
	conform_timeline_finish(t);
	return i < t->n ? t->ev[i].ev : NULL;
}

json_t *conform_timeline_json(struct conform_timeline *t)
{
	json_t *a;

	if (!t)
		return NULL;
	conform_timeline_finish(t);
	a = json_array();
	for (size_t i = 0; a && i < t->n; i++)
		json_array_append(a, t->ev[i].ev);
	return a;
}

int conform_timeline_save(struct conform_timeline *t, const char *path, char *err, size_t errlen)
{
	FILE *f;
	int rc = 0;

	if (!t || !path)
		return EINVAL;
	conform_timeline_finish(t);
	f = fopen(path, "w");
	if (!f) {
		rc = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(rc));
		return rc;
	}
	/* One event a line: diffable, and greppable by a support engineer. */
	fputs("[\n", f);
	for (size_t i = 0; i < t->n; i++) {
		if (json_dumpf(t->ev[i].ev, f, JSON_COMPACT | JSON_REAL_PRECISION(16)) != 0) {
			rc = EIO;
			break;
		}
		fputs(i + 1 < t->n ? ",\n" : "\n", f);
	}
	fputs("]\n", f);
	if (fclose(f) != 0 && !rc)
		rc = EIO;
	if (rc)
		snprintf(err, errlen, "%s: write failed", path);
	return rc;
}

void conform_timeline_stats(const struct conform_timeline *t, struct conform_timeline_stats *st)
{
	if (!st)
		return;
	if (!t) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = t->st;
}

int conform_timeline_add_pcap(struct conform_timeline *t, const char *path, const char *capture,
                              char *err, size_t errlen)
{
	char name[128];

	if (!t || !path)
		return EINVAL;
	if (!capture) {
		const char *b = strrchr(path, '/');

		str_copy_basename(name, sizeof(name), b ? b + 1 : path);
		capture = name;
	}
	return pcap_ingest_file(t, path, capture, err, errlen);
}

int conform_timeline_add_pcap_mem(struct conform_timeline *t, const void *data, size_t len,
                                  const char *capture, char *err, size_t errlen)
{
	if (!t || (!data && len))
		return EINVAL;
	return pcap_ingest_mem(t, data, len, capture ? capture : "capture", err, errlen);
}
