/* ladder.c - a SIP/HTTP ladder (sequence) diagram of a timeline as inline SVG.
 *
 * Columns are hosts by name, in order of first appearance: a packet's ends are its src_host /
 * dst_host (the address when the timeline's host table had no name), a server's journal line
 * sits on its `at` (the host the client reached), so the three SIP servers, each TCM and
 * TeamLink server, the proxy and the endpoint get a column each even where one process serves
 * several of them. Arrows are the signalling events of one capture (the endpoint link when
 * there is one, so a message seen on several links is drawn once); journal lines are dots on
 * their server's line. Unanswered TCP attempts are drawn dashed: they are what a blocking
 * firewall looks like on the wire.
 */
#include "buf.h"
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LADDER_MAX_COLS 12
#define LADDER_MAX_ROWS 120

static const char *s_(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int drawn_kind(const char *k)
{
	static const char *const kinds[] = {"sip.request",
	                                    "sip.response",
	                                    "http.request",
	                                    "http.connect",
	                                    "ws.upgrade",
	                                    "tls.client_hello",
	                                    "stun.request",
	                                    "stun.response",
	                                    "tcp.unanswered",
	                                    "tcp.rst",
	                                    NULL};
	for (size_t i = 0; kinds[i]; i++)
		if (!strcmp(kinds[i], k))
			return 1;
	return 0;
}

/* Server journal lines worth a dot: what a server accepted or refused, which the wire cannot
 * show when it is inside TLS or a tunnel. */
static int drawn_journal(const json_t *e)
{
	static const char *const events[] = {
	        "register",     "call",           "options",    "tunnel.open", "tunnel.close",
	        "channel.open", "upgrade.reject", "tcm.assign", "tcm.reject",  "login",
	        "config",       "detect.probe",   NULL};
	const char *ev = s_(e, "event");

	if (strncmp(s_(e, "src"), "journal:", 8) || !*s_(e, "at"))
		return 0;
	for (size_t i = 0; events[i]; i++)
		if (!strcmp(events[i], ev))
			return 1;
	return 0;
}

/* A journal dot's label: "register ok", "call start", "tcm.assign teamlink2...", "login 200". */
static void journal_label(char *out, size_t len, const json_t *e)
{
	const json_t *st = json_object_get(e, "status");
	const char *what = *s_(e, "result") ? s_(e, "result")
	        : *s_(e, "state")           ? s_(e, "state")
	                                    : s_(e, "server"); /* the server a TCM assigned */

	if (*what)
		snprintf(out, len, "%s %s", s_(e, "event"), what);
	else if (json_is_integer(st))
		snprintf(out, len, "%s %d", s_(e, "event"), (int)json_integer_value(st));
	else
		snprintf(out, len, "%s", s_(e, "event"));
	if (strlen(out) > 48)
		strcpy(out + 45, "...");
}

/* The column name of an event's end: the host name, else the address. */
static const char *end_name(const json_t *e, const char *host_key, const char *addr_key)
{
	return *s_(e, host_key) ? s_(e, host_key) : s_(e, addr_key);
}

struct ladder_cols {
	const char *name[LADDER_MAX_COLS];
	char addr[LADDER_MAX_COLS][64]; /* an address seen for it, "" if none */
	size_t n;
};

/* The column of name, added when new; -1 when there is no room. */
static int col_of(struct ladder_cols *c, const char *name, const char *addr)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->name[i], name))
			break;
	if (i == c->n) {
		if (c->n == LADDER_MAX_COLS)
			return -1;
		c->name[c->n] = name;
		c->addr[c->n][0] = '\0';
		c->n++;
	}
	if (!c->addr[i][0] && strcmp(addr, name))
		snprintf(c->addr[i], sizeof(c->addr[i]), "%s", addr);
	return (int)i;
}

/* The arrow's label: "REGISTER", "401 REGISTER", "CONNECT host:443", "TLS sni", ... */
static void label(char *out, size_t len, const json_t *e)
{
	const char *k = s_(e, "kind");
	json_int_t st = json_integer_value(json_object_get(e, "status"));

	if (!strcmp(k, "sip.request"))
		snprintf(out, len, "%s", s_(e, "method"));
	else if (!strcmp(k, "sip.response"))
		snprintf(out, len, "%d %s", (int)st, s_(e, "method"));
	else if (!strcmp(k, "http.request") || !strcmp(k, "http.connect"))
		snprintf(out, len, "%s %s", *s_(e, "method") ? s_(e, "method") : "HTTP",
		         *s_(e, "uri") ? s_(e, "uri") : s_(e, "host"));
	else if (!strcmp(k, "ws.upgrade"))
		snprintf(out, len, "WebSocket upgrade %s", s_(e, "uri"));
	else if (!strcmp(k, "tls.client_hello"))
		snprintf(out, len, "TLS ClientHello %s", s_(e, "sni"));
	else if (!strcmp(k, "stun.request"))
		snprintf(out, len, "STUN Binding :%d",
		         (int)json_integer_value(json_object_get(e, "dst_port")));
	else if (!strcmp(k, "stun.response"))
		snprintf(out, len, "STUN response");
	else if (!strcmp(k, "tcp.unanswered"))
		snprintf(out, len, "SYN :%d unanswered",
		         (int)json_integer_value(json_object_get(e, "dst_port")));
	else
		snprintf(out, len, "TCP RST");
	if (strlen(out) > 48)
		strcpy(out + 45, "...");
}

/* The address part of a journal's "local" ("ADDR:PORT", "[V6]:PORT"), into buf. */
static const char *local_addr(const json_t *e, char *buf, size_t len)
{
	const char *l = s_(e, "local");
	const char *colon = strrchr(l, ':');
	size_t n = colon ? (size_t)(colon - l) : strlen(l);

	if (*l == '[' && n >= 2 && l[n - 1] == ']') {
		l++;
		n -= 2;
	}
	snprintf(buf, len, "%.*s", (int)n, l);
	return buf;
}

struct ladder_row {
	const json_t *ev;
	int a, d; /* columns; d < 0: a journal dot on column a */
};

/* Picks the rows and their columns. */
static void ladder_rows(const json_t *tl, const char *cap, struct ladder_cols *cols,
                        struct ladder_row *rows, size_t *nrows, size_t *more)
{
	char laddr[64];
	size_t i;
	const json_t *e;

	json_array_foreach(tl, i, e)
	{
		struct ladder_row r = {.ev = e, .a = -1, .d = -1};

		if (drawn_journal(e)) {
			if (*nrows == LADDER_MAX_ROWS) {
				(*more)++;
				continue;
			}
			r.a = col_of(cols, s_(e, "at"), local_addr(e, laddr, sizeof(laddr)));
		} else {
			const char *src = s_(e, "src_ip"), *dst = s_(e, "dst_ip");

			if (!cap || strcmp(s_(e, "capture"), cap) || !drawn_kind(s_(e, "kind")) ||
			    !*src || !*dst)
				continue;
			if (*nrows == LADDER_MAX_ROWS) {
				(*more)++;
				continue;
			}
			r.a = col_of(cols, end_name(e, "src_host", "src_ip"), src);
			r.d = r.a < 0 ? -1 : col_of(cols, end_name(e, "dst_host", "dst_ip"), dst);
			if (r.d < 0)
				r.a = -1;
		}
		if (r.a < 0) {
			(*more)++;
			continue;
		}
		rows[(*nrows)++] = r;
	}
}

int report_ladder_svg(struct buf *b, const json_t *tl, const char *title)
{
	struct ladder_cols cols;
	struct ladder_row rows[LADDER_MAX_ROWS];
	size_t nrows = 0, more = 0, i;
	const char *cap = NULL;
	const json_t *e;
	double t0 = 0;

	memset(&cols, 0, sizeof(cols));
	/* One capture: "ep" if present, else the first one that has drawable events. */
	json_array_foreach(tl, i, e)
	{
		if (!drawn_kind(s_(e, "kind")) || !*s_(e, "capture"))
			continue;
		if (!cap || !strcmp(s_(e, "capture"), "ep"))
			cap = s_(e, "capture");
		if (!strcmp(cap, "ep"))
			break;
	}
	ladder_rows(tl, cap, &cols, rows, &nrows, &more);
	if (!nrows) {
		buf_puts(b, "<p class=\"muted\">No signalling in the captures to draw.</p>\n");
		return 0;
	}
	t0 = json_number_value(json_object_get(rows[0].ev, "t"));
	const int colw = 150, rowh = 22, top = 60, left = 70;
	int w = left + (int)cols.n * colw, h = top + (int)nrows * rowh + 20;
	buf_printf(b,
	           "<svg class=\"ladder\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	           "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
	           w, h, w, h);
	buf_esc(b, title);
	buf_puts(b,
	         "\">\n<defs><marker id=\"ah\" markerWidth=\"8\" markerHeight=\"8\" refX=\"8\" "
	         "refY=\"4\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#333\"/>"
	         "</marker></defs>\n");
	for (size_t c = 0; c < cols.n; c++) {
		int x = left + (int)c * colw + colw / 2;
		buf_printf(b, "<text x=\"%d\" y=\"16\" class=\"host\">", x);
		buf_esc(b, cols.name[c]);
		buf_printf(b, "</text><text x=\"%d\" y=\"30\" class=\"hostname\">", x);
		buf_esc(b, cols.addr[c]);
		buf_printf(b,
		           "</text><line x1=\"%d\" y1=\"36\" x2=\"%d\" y2=\"%d\" "
		           "class=\"life\"/>\n",
		           x, x, h - 8);
	}
	for (size_t r = 0; r < nrows; r++) {
		const json_t *ev = rows[r].ev;
		char lab[64];
		int y = top + (int)r * rowh;
		int x1 = left + rows[r].a * colw + colw / 2;

		buf_printf(b, "<text x=\"4\" y=\"%d\" class=\"t\">+%.3f</text>", y + 4,
		           json_number_value(json_object_get(ev, "t")) - t0);
		if (rows[r].d < 0) {
			journal_label(lab, sizeof(lab), ev);
			buf_printf(b, "<circle cx=\"%d\" cy=\"%d\" r=\"4\" fill=\"#333\"><title>",
			           x1, y);
			buf_esc(b, s_(ev, "kind"));
			buf_printf(b, "</title></circle><text x=\"%d\" y=\"%d\" class=\"lbl\">", x1,
			           y - 6);
			buf_esc(b, lab);
			buf_puts(b, "</text>\n");
			continue;
		}
		int x2 = left + rows[r].d * colw + colw / 2;
		const char *k = s_(ev, "kind");
		int bad = !strcmp(k, "tcp.unanswered") || !strcmp(k, "tcp.rst");
		label(lab, sizeof(lab), ev);
		if (rows[r].a == rows[r].d)
			x2 = x1 + 40;
		buf_printf(b,
		           "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"msg%s\" "
		           "marker-end=\"url(#ah)\"><title>",
		           x1, y, x2, y, bad ? " bad" : "");
		buf_esc(b, s_(ev, "src"));
		buf_printf(b, "</title></line><text x=\"%d\" y=\"%d\" class=\"lbl%s\">",
		           (x1 + x2) / 2, y - 4, bad ? " bad" : "");
		buf_esc(b, lab);
		buf_puts(b, "</text>\n");
	}
	buf_puts(b, "</svg>\n");
	if (more)
		buf_printf(
		        b,
		        "<p class=\"muted\">%zu more events not drawn (see timeline.json).</p>\n",
		        more);
	return b->toobig ? E2BIG : 0;
}
