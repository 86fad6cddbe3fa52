/* report_gen.c - renders the reports of a results fixture (for the browser and schema test):
 * report_gen FIXTURE_DIR OUT_DIR. */
#include "report.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	char in[4096], out[4096], err[512];
	json_t *r = NULL;

	if (argc != 3) {
		fprintf(stderr, "usage: report_gen FIXTURE_DIR OUT_DIR\n");
		return 2;
	}
	snprintf(in, sizeof(in), "%s/results.json", argv[1]);
	if (results_load(&r, in, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	results_finish(r);
	snprintf(out, sizeof(out), "%s/report.html", argv[2]);
	int e = report_write_html(r, argv[1], out);
	snprintf(out, sizeof(out), "%s/junit.xml", argv[2]);
	e = e ? e : report_write_junit(r, out);
	json_decref(r);
	return e ? 1 : 0;
}
