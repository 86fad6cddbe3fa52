#include "testutil.h"

#include <jansson.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int check_run(Suite *s)
{
	/* The tests' temporary files (tu_mkdtemp, and what the code under test makes in
	 * TMPDIR) go into one folder that goes when the runner ends. The runner outlives its
	 * forked tests, so a failed test leaves nothing behind either. */
	char *scratch = tu_mkdtemp();
	SRunner *sr = srunner_create(s);
	int nf;

	if (scratch)
		(void)setenv("TMPDIR", scratch, 1);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	tu_rmtree(scratch);
	free(scratch);
	return nf ? 1 : 0;
}

char *tu_mkdtemp(void)
{
	const char *t = getenv("TMPDIR");
	char *p = NULL;

	if (asprintf(&p, "%s/onsight-test.XXXXXX", t && *t ? t : "/tmp") < 0)
		return NULL;
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tu_rmtree(const char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_write(const char *dir, const char *name, const char *text)
{
	char *p = NULL;
	FILE *f;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	f = fopen(p, "w");
	if (!f) {
		free(p);
		return NULL;
	}
	fputs(text, f);
	fclose(f);
	return p;
}

char *tu_build_path(const char *rel)
{
	const char *b = getenv("ONSIGHT_BUILD_DIR");
	char *p = NULL;

	if (asprintf(&p, "%s/%s", b && *b ? b : ".", rel) < 0)
		return NULL;
	return p;
}

const char *tu_certs_dir(void)
{
	static char dir[4096];
	char cmd[8192];
	char *base;
	int lock;

	if (dir[0])
		return dir;
	base = tu_build_path("certs");
	snprintf(dir, sizeof(dir), "%s", base);
	free(base);
	/* Tests run in parallel: one of them makes the certificates, the others wait. */
	mkdir(dir, 0755);
	snprintf(cmd, sizeof(cmd), "%s/.lock", dir);
	lock = open(cmd, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock >= 0)
		flock(lock, LOCK_EX);
	snprintf(cmd, sizeof(cmd), "'%s/scripts/mkcerts' '%s' >/dev/null", ONSIGHT_SOURCE_DIR, dir);
	if (system(cmd) != 0)
		dir[0] = '\0';
	if (lock >= 0)
		close(lock);
	return dir[0] ? dir : NULL;
}

size_t tu_journal_count(const char *text, const char *event, const char *local)
{
	char *t = strdup(text ? text : ""), *line, *save = NULL;
	size_t n = 0;

	ck_assert_ptr_nonnull(t);
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_loads(line, 0, NULL);
		const char *ev = json_string_value(json_object_get(o, "event"));
		const char *l = json_string_value(json_object_get(o, "local"));

		if (ev && !strcmp(ev, event) && (!local || (l && !strcmp(l, local))))
			n++;
		json_decref(o);
	}
	free(t);
	return n;
}

void tu_assert_journal_local(const char *text, const char *event, const char *local)
{
	size_t all = tu_journal_count(text, event, NULL);

	ck_assert_msg(all > 0, "no %s line", event);
	ck_assert_msg(tu_journal_count(text, event, local) == all, "%s: not all local %s", event,
	              local);
}
