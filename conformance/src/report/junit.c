/* junit.c - junit.xml: one <testsuite> per scenario, one <testcase> per check
 * (conformance/tests/junit.xsd is the schema it is validated against). */
#include "buf.h"
#include "report.h"

#include <string.h>

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* The failure text: the reason plus expected vs observed, as the HTML shows it. */
static void check_detail(struct buf *b, const json_t *c)
{
	const char *exp = str(c, "expected"), *obs = str(c, "observed");

	buf_esc(b, str(c, "reason"));
	if (*exp) {
		buf_puts(b, "\nexpected: ");
		buf_esc(b, exp);
	}
	if (*obs) {
		buf_puts(b, "\nobserved: ");
		buf_esc(b, obs);
	}
}

static void testcase(struct buf *b, const char *sid, const json_t *c)
{
	const char *v = str(c, "verdict");

	buf_puts(b, "    <testcase classname=\"");
	buf_esc(b, sid);
	buf_puts(b, "\" name=\"");
	buf_esc(b, str(c, "id"));
	if (*str(c, "description")) {
		buf_puts(b, " ");
		buf_esc(b, str(c, "description"));
	}
	buf_puts(b, "\" time=\"0\"");
	if (!strcmp(v, V_PASS)) {
		buf_puts(b, "/>\n");
		return;
	}
	buf_puts(b, ">\n");
	if (!strcmp(v, V_NA)) {
		buf_puts(b, "      <skipped message=\"");
		buf_esc(b, str(c, "reason"));
		buf_puts(b, "\"/>\n");
	} else {
		const char *tag = !strcmp(v, V_FAIL) ? "failure" : "error";
		buf_printf(b, "      <%s message=\"", tag);
		buf_esc(b, str(c, "reason"));
		buf_printf(b, "\" type=\"%s\">", !strcmp(v, V_FAIL) ? "check" : "harness");
		check_detail(b, c);
		buf_printf(b, "</%s>\n", tag);
	}
	buf_puts(b, "    </testcase>\n");
}

static void counts(const json_t *s, int *tests, int *fail, int *err, int *skip)
{
	const json_t *checks = json_object_get(s, "checks"), *c;
	size_t i;

	*tests = *fail = *err = *skip = 0;
	json_array_foreach(checks, i, c)
	{
		const char *v = str(c, "verdict");
		(*tests)++;
		if (!strcmp(v, V_FAIL))
			(*fail)++;
		else if (!strcmp(v, V_NA))
			(*skip)++;
		else if (strcmp(v, V_PASS))
			(*err)++;
	}
	/* What went wrong around the checks (the endpoint crashed or hung, the lab failed)
	 * is one more test case, "run", with the reason. */
	const json_t *h = json_object_get(s, "harness");
	if (h) {
		const char *hv = str(h, "verdict");
		(*tests)++;
		if (!strcmp(hv, V_FAIL))
			(*fail)++;
		else if (strcmp(hv, V_PASS))
			(*err)++;
	}
}

/* The kill matrix as one more suite, "selftest": a test case per check, failing when no
 * fault run or mutation made it fail. */
static void matrix_suite(struct buf *b, const json_t *r)
{
	const json_t *m = json_object_get(json_object_get(r, "selftest"), "matrix"), *row;
	size_t i;
	int t = (int)json_array_size(json_object_get(m, "checks")), f = 0;

	if (!m)
		return;
	json_array_foreach(json_object_get(m, "checks"), i, row)
	{
		f += !json_is_true(json_object_get(row, "killed"));
	}
	buf_printf(b,
	           "  <testsuite name=\"selftest\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
	           "skipped=\"0\" time=\"0\" timestamp=\"",
	           t, f);
	buf_esc(b, *str(r, "started") ? str(r, "started") : "1970-01-01T00:00:00");
	buf_puts(b, "\">\n");
	json_array_foreach(json_object_get(m, "checks"), i, row)
	{
		buf_puts(b, "    <testcase classname=\"selftest.");
		buf_esc(b, str(row, "scenario"));
		buf_puts(b, "\" name=\"");
		buf_esc(b, str(row, "check"));
		buf_puts(b, " is killed\" time=\"0\"");
		if (json_is_true(json_object_get(row, "killed"))) {
			buf_puts(b, "/>\n");
			continue;
		}
		buf_puts(b,
		         ">\n      <failure message=\"never killed: no fault run or mutation "
		         "made this check fail\" type=\"selftest\">fault-free verdict: ");
		buf_esc(b, str(row, "clean"));
		buf_puts(b, "</failure>\n    </testcase>\n");
	}
	buf_puts(b, "  </testsuite>\n");
}

int report_write_junit(const json_t *r, const char *path)
{
	struct buf b;
	const json_t *sc = json_object_get(r, "scenarios"), *s;
	size_t i;
	int T = 0, F = 0, E = 0, S = 0, e;

	json_array_foreach(sc, i, s)
	{
		int t, f, er, sk;
		counts(s, &t, &f, &er, &sk);
		T += t, F += f, E += er, S += sk;
	}
	{
		/* The selftest suite's test cases count in the totals too. */
		const json_t *m = json_object_get(json_object_get(r, "selftest"), "matrix"), *row;
		json_array_foreach(json_object_get(m, "checks"), i, row)
		{
			T++;
			F += !json_is_true(json_object_get(row, "killed"));
		}
	}
	buf_init(&b, REPORT_MAX_HTML);
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	buf_printf(&b,
	           "<testsuites name=\"onsight-conform\" tests=\"%d\" failures=\"%d\" "
	           "errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
	           T, F, E, S, json_number_value(json_object_get(r, "wall_s")));
	json_array_foreach(sc, i, s)
	{
		int t, f, er, sk;
		const json_t *checks = json_object_get(s, "checks"), *c;
		size_t j;

		counts(s, &t, &f, &er, &sk);
		buf_puts(&b, "  <testsuite name=\"");
		buf_esc(&b, str(s, "id"));
		buf_printf(&b,
		           "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" "
		           "time=\"%.3f\" timestamp=\"",
		           t, f, er, sk, json_number_value(json_object_get(s, "duration_s")));
		buf_esc(&b, *str(r, "started") ? str(r, "started") : "1970-01-01T00:00:00");
		buf_puts(&b, "\">\n    <properties>\n      <property name=\"title\" value=\"");
		buf_esc(&b, str(s, "title"));
		buf_puts(&b, "\"/>\n      <property name=\"endpoint\" value=\"");
		buf_esc(&b, str(json_object_get(r, "endpoint"), "name"));
		buf_puts(&b, "\"/>\n    </properties>\n");
		const json_t *h = json_object_get(s, "harness");
		if (h) {
			json_t *hc = json_pack("{s:s,s:s,s:s,s:s}", "id", "run", "description",
			                       "the scenario ran to judgement", "verdict",
			                       str(h, "verdict"), "reason", str(h, "reason"));
			if (hc)
				testcase(&b, str(s, "id"), hc);
			json_decref(hc);
		}
		json_array_foreach(checks, j, c)
		{
			testcase(&b, str(s, "id"), c);
		}
		buf_puts(&b, "  </testsuite>\n");
	}
	matrix_suite(&b, r);
	buf_puts(&b, "</testsuites>\n");
	e = buf_write_file(&b, path);
	buf_free(&b);
	return e;
}
