/* testutil.h - shared by every check runner in the project. */
#ifndef ONSIGHT_TESTUTIL_H
#define ONSIGHT_TESTUTIL_H

#include <check.h>
#include <stddef.h>

/* Runs the suite (fork mode, so a crash fails one test, not the runner) with TMPDIR set to a
 * scratch folder removed afterwards; returns the exit status for main(). */
int check_run(Suite *s);
/* Makes a fresh directory under $TMPDIR for the calling test; removed by tu_rmtree. */
char *tu_mkdtemp(void);
void tu_rmtree(const char *dir);
/* Writes text to dir/name and returns the new path (caller frees). */
char *tu_write(const char *dir, const char *name, const char *text);
/* Directory with the lab certificates (scripts/mkcerts run once per build tree). */
const char *tu_certs_dir(void);
/* Path of a built program, from $ONSIGHT_BUILD_DIR (set by CTest). */
char *tu_build_path(const char *rel);
/* Journal lines (JSON Lines text) of event: all of them (local NULL) or those whose "local"
 * (the server address the client reached) is local. */
size_t tu_journal_count(const char *text, const char *event, const char *local);
/* Asserts that the journal has lines of event and that every one of them names local. */
void tu_assert_journal_local(const char *text, const char *event, const char *local);

#define TU_SUITE(name, ...) \
	int main(void) \
	{ \
		Suite *s_ = suite_create(name); \
		TCase *tc_ = tcase_create("core"); \
		const TTest *t_[] = {__VA_ARGS__}; \
		for (size_t i_ = 0; i_ < sizeof(t_) / sizeof(t_[0]); i_++) \
			_tcase_add_test(tc_, t_[i_], 0, 0, 0, 1); \
		tcase_set_timeout(tc_, 60); \
		suite_add_tcase(s_, tc_); \
		return check_run(s_); \
	}

#endif
