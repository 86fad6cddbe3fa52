/* html.c - report.html: one self-contained page (inline CSS and SVG, no scripts, no fetches)
 * that a vendor can hand to a customer. Links to artefacts are relative to the out dir. */
#include "buf.h"
#include "report.h"

#include "onsight/jsoncfg.h"

#include <stdio.h>
#include <string.h>

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static const char css[] =
        "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}"
        "h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}"
        "h3{font-size:15px}table{border-collapse:collapse;margin:8px 0}"
        "td,th{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}"
        "th{background:#f3f3f3}.pass{background:#d8f5d8}.fail{background:#f9d0d0}"
        ".error,.not-started{background:#f7e0a8}.na{background:#e8e8e8;color:#555}"
        ".muted{color:#666}pre{background:#f6f6f6;padding:6px;white-space:pre-wrap;margin:4px 0}"
        "svg.ladder{border:1px solid #ddd;background:#fff;margin:8px 0}"
        "svg .host{font:bold 12px monospace;text-anchor:middle}"
        "svg .hostname{font:11px sans-serif;text-anchor:middle;fill:#555}"
        "svg .life{stroke:#bbb;stroke-dasharray:4 3}svg .msg{stroke:#333;stroke-width:1.2}"
        "svg .msg.bad{stroke:#c00;stroke-dasharray:5 3}"
        "svg .lbl{font:11px monospace;text-anchor:middle}svg .lbl.bad{fill:#c00}"
        "svg .t{font:10px monospace;fill:#777}";

static void verdict_cell(struct buf *b, const char *v)
{
	const char *text = !strcmp(v, V_NA) ? "n/a" : v;
	buf_printf(b, "<td class=\"verdict %s\">", *v ? v : "error");
	buf_esc(b, *text ? text : "?");
	buf_puts(b, "</td>");
}

static void link(struct buf *b, const char *href, const char *text)
{
	buf_puts(b, "<a href=\"");
	buf_esc(b, href);
	buf_puts(b, "\">");
	buf_esc(b, text);
	buf_puts(b, "</a>");
}

static void summary(struct buf *b, const json_t *r)
{
	const json_t *ep = json_object_get(r, "endpoint");
	const json_t *s = json_object_get(json_object_get(r, "summary"), "scenarios");
	const json_t *c = json_object_get(json_object_get(r, "summary"), "checks");
	const json_t *caps = json_object_get(ep, "capabilities"), *cap;
	size_t i;

	buf_puts(b, "<table class=\"summary\"><tr><th>endpoint</th><td>");
	buf_esc(b, str(ep, "name"));
	buf_puts(b, " <span class=\"muted\">(adapter ");
	buf_esc(b, str(ep, "adapter"));
	buf_puts(b, ")</span></td></tr><tr><th>capabilities</th><td>");
	json_array_foreach(caps, i, cap)
	{
		buf_puts(b, i ? ", " : "");
		buf_esc(b, json_string_value(cap));
	}
	buf_puts(b, "</td></tr><tr><th>started</th><td>");
	buf_esc(b, str(r, "started"));
	buf_printf(b, "</td></tr><tr><th>wall time</th><td>%.1f s</td></tr>",
	           json_number_value(json_object_get(r, "wall_s")));
	buf_printf(b,
	           "<tr><th>scenarios</th><td>%d pass, %d fail, %d error, %d endpoint not "
	           "started, %d not applicable</td></tr>",
	           (int)json_integer_value(json_object_get(s, "pass")),
	           (int)json_integer_value(json_object_get(s, "fail")),
	           (int)json_integer_value(json_object_get(s, "error")),
	           (int)json_integer_value(json_object_get(s, "not_started")),
	           (int)json_integer_value(json_object_get(s, "na")));
	buf_printf(b,
	           "<tr><th>checks</th><td>%d pass, %d fail, %d not applicable, %d error</td></tr>",
	           (int)json_integer_value(json_object_get(c, "pass")),
	           (int)json_integer_value(json_object_get(c, "fail")),
	           (int)json_integer_value(json_object_get(c, "na")),
	           (int)json_integer_value(json_object_get(c, "error")));
	buf_printf(b, "<tr><th>exit code</th><td>%d</td></tr></table>\n", results_exit_code(r));
}

static void count_checks(const json_t *s, int *p, int *f, int *n)
{
	const json_t *c;
	size_t i;

	*p = *f = *n = 0;
	json_array_foreach(json_object_get(s, "checks"), i, c)
	{
		const char *v = str(c, "verdict");
		if (!strcmp(v, V_PASS))
			(*p)++;
		else if (!strcmp(v, V_NA))
			(*n)++;
		else
			(*f)++;
	}
}

static void verdict_table(struct buf *b, const json_t *r)
{
	const json_t *s;
	size_t i;

	buf_puts(b,
	         "<h2>Verdicts</h2>\n<table id=\"verdicts\"><tr><th>scenario</th><th>title</th>"
	         "<th>verdict</th><th>checks pass / fail / n/a</th><th>time</th>"
	         "<th>reason</th></tr>\n");
	json_array_foreach(json_object_get(r, "scenarios"), i, s)
	{
		int p, f, n;
		count_checks(s, &p, &f, &n);
		buf_puts(b, "<tr><td><a href=\"#sc-");
		buf_esc(b, str(s, "id"));
		buf_puts(b, "\">");
		buf_esc(b, str(s, "id"));
		buf_puts(b, "</a></td><td>");
		buf_esc(b, str(s, "title"));
		buf_puts(b, "</td>");
		verdict_cell(b, str(s, "verdict"));
		buf_printf(b, "<td>%d / %d / %d</td><td>%.1f s</td><td>", p, f, n,
		           json_number_value(json_object_get(s, "duration_s")));
		buf_esc(b, str(json_object_get(s, "harness"), "reason"));
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "</table>\n");
}

/* Requirement x scenario: which checks cover each requirement, and how they came out. */
static void coverage(struct buf *b, const json_t *r)
{
	const json_t *scs = json_object_get(r, "scenarios"),
	             *reqs = json_object_get(r, "requirements");
	json_t *ids = json_object(), *val;
	const json_t *s, *c, *q;
	const char *id;
	size_t i, j, k;

	buf_puts(b,
	         "<h2>Requirement coverage</h2>\n<table id=\"coverage\"><tr><th>requirement"
	         "</th><th>note</th>");
	json_array_foreach(scs, i, s)
	{
		buf_puts(b, "<th>");
		buf_esc(b, str(s, "id"));
		buf_puts(b, "</th>");
	}
	buf_puts(b, "</tr>\n");
	/* Every requirement the library knows (covered or not), then any only checks name. */
	json_array_foreach(reqs, i, q)
	{
		json_object_set_new(ids, str(q, "id"), json_deep_copy(q));
	}
	json_array_foreach(scs, i, s)
	{
		json_array_foreach(json_object_get(s, "checks"), j, c)
		{
			json_array_foreach(json_object_get(c, "req"), k, q)
			{
				const char *rid = json_string_value(q);
				if (rid && !json_object_get(ids, rid))
					json_object_set_new(ids, rid, json_object());
			}
		}
	}
	json_object_foreach(ids, id, val)
	{
		int any = 0;
		buf_puts(b, "<tr><th>");
		buf_esc(b, id);
		buf_puts(b, "</th><td class=\"muted\">");
		buf_esc(b, str(val, "title"));
		if (*str(val, "note")) {
			buf_puts(b, " (");
			buf_esc(b, str(val, "note"));
			buf_puts(b, ")");
		}
		buf_puts(b, "</td>");
		json_array_foreach(scs, i, s)
		{
			struct buf cell;
			const char *worst = "";
			buf_init(&cell, 1 << 16);
			json_array_foreach(json_object_get(s, "checks"), j, c)
			{
				json_array_foreach(json_object_get(c, "req"), k, q)
				{
					if (strcmp(json_string_value(q) ? json_string_value(q) : "",
					           id))
						continue;
					const char *v = str(c, "verdict");
					buf_puts(&cell, cell.len ? " " : "");
					buf_esc(&cell, str(c, "id"));
					if (!*worst || !strcmp(v, V_FAIL) ||
					    (strcmp(worst, V_FAIL) && strcmp(v, V_PASS)))
						worst = v;
					any = 1;
				}
			}
			buf_printf(b, "<td class=\"%s\">%s</td>", worst, cell.s ? cell.s : "");
			buf_free(&cell);
		}
		buf_puts(b, "</tr>\n");
		(void)any;
	}
	buf_puts(b, "</table>\n");
	json_decref(ids);
}

static void strlist(struct buf *b, const json_t *a)
{
	const json_t *v;
	size_t i;
	json_array_foreach(a, i, v)
	{
		buf_puts(b, i ? ", " : "");
		buf_esc(b, json_string_value(v));
	}
}

static void selftest(struct buf *b, const json_t *st)
{
	const json_t *f;
	size_t i;

	if (!st)
		return;
	buf_puts(b,
	         "<h2>Self-test: every deliberate fault is caught</h2>\n<table id=\"selftest\">"
	         "<tr><th>fault</th><th>scenarios</th><th>checks it must trip</th>"
	         "<th>checks that failed only with the fault</th><th>caught</th></tr>\n");
	json_array_foreach(json_object_get(st, "faults"), i, f)
	{
		int caught = json_is_true(json_object_get(f, "caught"));
		buf_puts(b, "<tr><td>");
		buf_esc(b, str(f, "fault"));
		buf_puts(b, "</td><td>");
		if (json_array_size(json_object_get(f, "runs"))) {
			/* Each faulty run links to its own captures and logs. */
			const json_t *run;
			size_t k;
			json_array_foreach(json_object_get(f, "runs"), k, run)
			{
				buf_puts(b, k ? ", " : "");
				link(b, *str(run, "dir") ? str(run, "dir") : "#",
				     str(run, "scenario"));
				buf_puts(b, " (");
				buf_esc(b, str(run, "verdict"));
				buf_puts(b, ")");
			}
		} else {
			strlist(b, json_object_get(f, "scenarios"));
		}
		buf_puts(b, "</td><td>");
		strlist(b, json_object_get(f, "expect"));
		buf_puts(b, "</td><td>");
		strlist(b, json_object_get(f, "tripped"));
		if (json_array_size(json_object_get(f, "fail_without_fault"))) {
			buf_puts(b, " <span class=\"muted\">(fail without the fault too: ");
			strlist(b, json_object_get(f, "fail_without_fault"));
			buf_puts(b, ")</span>");
		}
		if (*str(f, "reason")) {
			buf_puts(b, " <span class=\"muted\">");
			buf_esc(b, str(f, "reason"));
			buf_puts(b, "</span>");
		}
		buf_puts(b, "</td>");
		verdict_cell(b, caught ? V_PASS : V_FAIL);
		buf_puts(b, "</tr>\n");
	}
	const json_t *clean = json_object_get(st, "clean");
	if (clean) {
		int fails = (int)json_integer_value(json_object_get(clean, "failures"));
		buf_printf(b, "<tr><td>(no fault)</td><td>all</td><td>none</td><td>%d failed of %d",
		           fails, (int)json_integer_value(json_object_get(clean, "checks")));
		buf_puts(b, "</td>");
		verdict_cell(b, fails ? V_FAIL : V_PASS);
		buf_puts(b, "</tr>\n");
	}
	buf_puts(b, "</table>\n");
}

/* The kill matrix: each check with the fault runs and mutations that made it fail. */
static void kill_matrix(struct buf *b, const json_t *m)
{
	const json_t *r, *k;
	size_t i, j;

	if (!m)
		return;
	buf_printf(b,
	           "<h2>Self-test: every check is proven able to fail</h2>\n<p>%d checks, %d "
	           "killed, %d never killed. A check is killed by a fault run or a timeline "
	           "mutation where it fails and passes fault-free.</p>\n",
	           (int)json_integer_value(json_object_get(json_object_get(m, "counts"), "checks")),
	           (int)json_integer_value(json_object_get(json_object_get(m, "counts"), "killed")),
	           (int)json_integer_value(
	                   json_object_get(json_object_get(m, "counts"), "never_killed")));
	buf_puts(b,
	         "<table id=\"killmatrix\"><tr><th>check</th><th>requirements</th>"
	         "<th>fault-free</th><th>killed by</th><th>killed</th></tr>\n");
	json_array_foreach(json_object_get(m, "checks"), i, r)
	{
		buf_puts(b, "<tr><td>");
		buf_esc(b, str(r, "scenario"));
		buf_puts(b, " ");
		buf_esc(b, str(r, "check"));
		buf_puts(b, "</td><td>");
		strlist(b, json_object_get(r, "req"));
		buf_puts(b, "</td>");
		verdict_cell(b, str(r, "clean"));
		buf_puts(b, "<td>");
		json_array_foreach(json_object_get(r, "killed_by"), j, k)
		{
			buf_puts(b, j ? ", " : "");
			buf_esc(b, str(k, "by"));
			if (strcmp(str(k, "verdict"), V_FAIL))
				buf_puts(b, " <span class=\"muted\">(error)</span>");
		}
		buf_puts(b, "</td>");
		verdict_cell(b, json_is_true(json_object_get(r, "killed")) ? V_PASS : V_FAIL);
		buf_puts(b, "</tr>\n");
	}
	buf_puts(b, "</table>\n");
	if (json_array_size(json_object_get(m, "never_killed"))) {
		buf_puts(b, "<p><b>Never killed:</b> ");
		strlist(b, json_object_get(m, "never_killed"));
		buf_puts(b, "</p>\n");
	}
	if (json_array_size(json_object_get(m, "requirements_never_killed"))) {
		buf_puts(b, "<p><b>Requirements with no killed check:</b> ");
		strlist(b, json_object_get(m, "requirements_never_killed"));
		buf_puts(b, "</p>\n");
	}
}

static void checks_table(struct buf *b, const json_t *s)
{
	const json_t *c;
	size_t i;

	if (!json_array_size(json_object_get(s, "checks"))) {
		buf_puts(b, "<p class=\"muted\">No checks were judged.</p>\n");
		return;
	}
	buf_puts(b,
	         "<table class=\"checks\"><tr><th>check</th><th>requirements</th>"
	         "<th>description</th><th>verdict</th><th>details</th></tr>\n");
	json_array_foreach(json_object_get(s, "checks"), i, c)
	{
		const char *v = str(c, "verdict");
		buf_puts(b, "<tr><td>");
		buf_esc(b, str(c, "id"));
		buf_puts(b, "</td><td>");
		strlist(b, json_object_get(c, "req"));
		buf_puts(b, "</td><td>");
		buf_esc(b, str(c, "description"));
		buf_puts(b, "</td>");
		verdict_cell(b, v);
		buf_puts(b, "<td>");
		buf_esc(b, str(c, "reason"));
		/* Expected vs observed where it matters: a check that did not pass. */
		if (strcmp(v, V_PASS) && (*str(c, "expected") || *str(c, "observed"))) {
			buf_puts(b, "<pre class=\"evo\">expected: ");
			buf_esc(b, str(c, "expected"));
			buf_puts(b, "\nobserved: ");
			buf_esc(b, str(c, "observed"));
			buf_puts(b, "</pre>");
		}
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "</table>\n");
}

static void steps(struct buf *b, const json_t *s)
{
	const json_t *st;
	size_t i;

	if (!json_array_size(json_object_get(s, "steps")))
		return;
	buf_puts(b,
	         "<h3>Steps</h3><table class=\"steps\"><tr><th>t</th><th>step</th><th>outcome"
	         "</th></tr>\n");
	json_array_foreach(json_object_get(s, "steps"), i, st)
	{
		buf_printf(b, "<tr><td>+%.2f s</td><td>",
		           json_number_value(json_object_get(st, "t")));
		buf_esc(b, str(st, "step"));
		buf_puts(b, "</td><td>");
		buf_esc(b, str(st, "outcome"));
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "</table>\n");
}

static void artefacts(struct buf *b, const json_t *s)
{
	const json_t *a;
	size_t i;

	if (!json_array_size(json_object_get(s, "artifacts")))
		return;
	buf_puts(b, "<p class=\"artefacts\">Files: ");
	json_array_foreach(json_object_get(s, "artifacts"), i, a)
	{
		char text[160], href[4096];
		snprintf(text, sizeof(text), "%s %s", str(a, "kind"), str(a, "name"));
		/* Paths are relative to the scenario directory, links to the report's. */
		snprintf(href, sizeof(href), "%s/%s", str(s, "dir"), str(a, "path"));
		buf_puts(b, i ? " · " : "");
		link(b, href, text);
	}
	buf_puts(b, "</p>\n");
}

static void scenario(struct buf *b, const json_t *s, const char *outdir)
{
	char path[4096];
	json_t *tl = NULL;
	char err[256];

	buf_puts(b, "<section class=\"scenario\" id=\"sc-");
	buf_esc(b, str(s, "id"));
	buf_puts(b, "\"><h2>");
	buf_esc(b, str(s, "id"));
	buf_puts(b, " — ");
	buf_esc(b, str(s, "title"));
	buf_printf(b, " <span class=\"%s\">&nbsp;", str(s, "verdict"));
	buf_esc(b, !strcmp(str(s, "verdict"), V_NA) ? "n/a" : str(s, "verdict"));
	buf_puts(b, "&nbsp;</span></h2>\n");
	if (json_array_size(json_object_get(s, "note"))) {
		buf_puts(b, "<p class=\"muted\">Network requirements note: ");
		strlist(b, json_object_get(s, "note"));
		buf_puts(b, "</p>\n");
	}
	if (json_object_get(s, "harness")) {
		buf_printf(b, "<p class=\"%s\"><b>Run:</b> ",
		           str(json_object_get(s, "harness"), "verdict"));
		buf_esc(b, str(json_object_get(s, "harness"), "reason"));
		buf_puts(b, "</p>\n");
	}
	checks_table(b, s);
	steps(b, s);
	artefacts(b, s);
	buf_puts(b, "<h3>Ladder</h3>\n");
	if (str(s, "dir")[0] == '/') /* a merged shard elsewhere */
		snprintf(path, sizeof(path), "%s/timeline.json", str(s, "dir"));
	else
		snprintf(path, sizeof(path), "%s/%s/timeline.json", outdir, str(s, "dir"));
	if (*str(s, "dir") && !jcfg_load(path, &tl, err, sizeof(err)) && json_is_array(tl))
		report_ladder_svg(b, tl, str(s, "id"));
	else
		buf_puts(b, "<p class=\"muted\">No timeline for this scenario.</p>\n");
	json_decref(tl);
	buf_puts(b, "</section>\n");
}

int report_write_html(const json_t *r, const char *outdir, const char *path)
{
	struct buf b;
	const json_t *s;
	size_t i;
	int e;

	buf_init(&b, REPORT_MAX_HTML);
	buf_puts(&b,
	         "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	         "<title>Onsight conformance report</title><style>");
	buf_puts(&b, css);
	buf_puts(&b, "</style></head><body>\n<h1>Onsight conformance report — ");
	buf_esc(&b, str(json_object_get(r, "endpoint"), "name"));
	buf_puts(&b, "</h1>\n");
	summary(&b, r);
	verdict_table(&b, r);
	coverage(&b, r);
	selftest(&b, json_object_get(r, "selftest"));
	kill_matrix(&b, json_object_get(json_object_get(r, "selftest"), "matrix"));
	json_array_foreach(json_object_get(r, "scenarios"), i, s)
	{
		scenario(&b, s, outdir);
	}
	buf_puts(&b, "<p class=\"muted\">onsight-conform ");
	buf_esc(&b, str(r, "tool_version"));
	buf_puts(&b, " · results.json and junit.xml hold the same verdicts.</p>\n</body></html>\n");
	e = buf_write_file(&b, path);
	buf_free(&b);
	return e;
}
