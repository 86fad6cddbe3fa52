/* ladder.c - a SIP/HTTP ladder (sequence) diagram of a timeline as inline SVG.
 *
 * Columns are the hosts in order of first appearance, the endpoint first; arrows are the
 * signalling events of one capture (the endpoint link when there is one, so a message seen
 * on several links is drawn once). Unanswered TCP attempts are drawn dashed: they are what a
 * blocking firewall looks like on the wire.
 */
#include "buf.h"
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LADDER_MAX_COLS 10
#define LADDER_MAX_ROWS 120

/* Lab host names (contracts §A), to label columns. */
static const struct {
	const char *addr, *name;
} hosts[] = {
        {"203.0.113.10", "onsight (OAM)"},
        {"203.0.113.20", "sip (cloud SIP)"},
        {"203.0.113.30", "tcm"},
        {"203.0.113.31", "tcm1"},
        {"203.0.113.32", "tcm2"},
        {"203.0.113.33", "tcm3"},
        {"203.0.113.41", "teamlink1"},
        {"203.0.113.42", "teamlink2"},
        {"203.0.113.43", "teamlink3"},
        {"203.0.113.50", "teamlink10"},
        {"203.0.113.60", "vcs-expressway"},
        {"203.0.113.53", "public DNS"},
        {"203.0.113.2", "fw WAN (NAT)"},
        {"198.51.100.1", "fw LAN"},
        {"198.51.100.3", "proxy"},
        {"198.51.100.5", "vcs-control"},
        {"198.51.100.53", "LAN DNS"},
        {"198.51.100.10", "endpoint (inside)"},
        {"192.0.2.10", "endpoint (outside)"},
        {"203.0.113.21", "media1"},
        {"203.0.113.22", "media2"},
};

static const char *host_label(const char *addr)
{
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (!strcmp(hosts[i].addr, addr))
			return hosts[i].name;
	return "";
}

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

int report_ladder_svg(struct buf *b, const json_t *tl, const char *title)
{
	const char *cols[LADDER_MAX_COLS];
	const json_t *rows[LADDER_MAX_ROWS];
	size_t ncols = 0, nrows = 0, more = 0, i;
	const char *cap = NULL;
	const json_t *e;
	double t0 = 0;

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
	json_array_foreach(tl, i, e)
	{
		const char *src = s_(e, "src_ip"), *dst = s_(e, "dst_ip");
		if (!cap || strcmp(s_(e, "capture"), cap) || !drawn_kind(s_(e, "kind")) || !*src ||
		    !*dst)
			continue;
		if (nrows == LADDER_MAX_ROWS) {
			more++;
			continue;
		}
		const char *pair[2] = {src, dst};
		int ok = 1;
		for (int p = 0; p < 2; p++) {
			size_t c;
			for (c = 0; c < ncols; c++)
				if (!strcmp(cols[c], pair[p]))
					break;
			if (c == ncols) {
				if (ncols == LADDER_MAX_COLS) {
					ok = 0;
					break;
				}
				cols[ncols++] = pair[p];
			}
		}
		if (!ok) {
			more++;
			continue;
		}
		if (!nrows)
			t0 = json_number_value(json_object_get(e, "t"));
		rows[nrows++] = e;
	}
	if (!nrows) {
		buf_puts(b, "<p class=\"muted\">No signalling in the captures to draw.</p>\n");
		return 0;
	}
	const int colw = 150, rowh = 22, top = 60, left = 70;
	int w = left + (int)ncols * colw, h = top + (int)nrows * rowh + 20;
	buf_printf(b,
	           "<svg class=\"ladder\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	           "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
	           w, h, w, h);
	buf_esc(b, title);
	buf_puts(b,
	         "\">\n<defs><marker id=\"ah\" markerWidth=\"8\" markerHeight=\"8\" refX=\"8\" "
	         "refY=\"4\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#333\"/>"
	         "</marker></defs>\n");
	for (size_t c = 0; c < ncols; c++) {
		int x = left + (int)c * colw + colw / 2;
		buf_printf(b, "<text x=\"%d\" y=\"16\" class=\"host\">", x);
		buf_esc(b, cols[c]);
		buf_printf(b, "</text><text x=\"%d\" y=\"30\" class=\"hostname\">", x);
		buf_esc(b, host_label(cols[c]));
		buf_printf(b,
		           "</text><line x1=\"%d\" y1=\"36\" x2=\"%d\" y2=\"%d\" "
		           "class=\"life\"/>\n",
		           x, x, h - 8);
	}
	for (size_t r = 0; r < nrows; r++) {
		const json_t *ev = rows[r];
		size_t a = 0, d = 0;
		char lab[64];
		for (size_t c = 0; c < ncols; c++) {
			if (!strcmp(cols[c], s_(ev, "src_ip")))
				a = c;
			if (!strcmp(cols[c], s_(ev, "dst_ip")))
				d = c;
		}
		int y = top + (int)r * rowh;
		int x1 = left + (int)a * colw + colw / 2, x2 = left + (int)d * colw + colw / 2;
		const char *k = s_(ev, "kind");
		int bad = !strcmp(k, "tcp.unanswered") || !strcmp(k, "tcp.rst");
		label(lab, sizeof(lab), ev);
		buf_printf(b, "<text x=\"4\" y=\"%d\" class=\"t\">+%.3f</text>", y + 4,
		           json_number_value(json_object_get(ev, "t")) - t0);
		if (a == d)
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
