/* gc.c - removing scenario folders: a rerun's old files, and killed runs' scratch folders. */

#define LOG_TAG "scenario"
#include "scen_int.h"

#include "fwlab.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void scen_rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void scen_gc_rundirs(void)
{
	DIR *d = opendir(RUNDIR_DIR);
	struct dirent *e;
	time_t now = time(NULL);
	const size_t pl = strlen(RUNDIR_NAME);

	while (d && (e = readdir(d))) {
		char dir[PATH_MAX], state[PATH_MAX];
		struct stat st;
		if (strncmp(e->d_name, RUNDIR_NAME, pl))
			continue;
		scen_pathf(dir, sizeof(dir), RUNDIR_DIR "/%s", e->d_name);
		scen_pathf(state, sizeof(state), "%s/%.64s.json", FWLAB_STATE_DIR, e->d_name + pl);
		if (lstat(dir, &st) || !S_ISDIR(st.st_mode) || now - st.st_mtime < 60 ||
		    !access(state, F_OK))
			continue;
		scen_rm_tree(dir);
		if (access(dir, F_OK))
			printf("removed run folder %s\n", dir);
	}
	if (d)
		closedir(d);
}
