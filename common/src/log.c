#include "onsight/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int log_level_cur = LOG_LVL_INFO;
static const char *log_prog = "onsight";

static const char *const level_names[] = {"err", "warn", "info", "debug"};

void log_init(const char *prog, enum log_level level)
{
	if (prog)
		log_prog = prog;
	log_level_cur = level;
}

int log_level_parse(const char *name)
{
	for (size_t i = 0; name && i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void log_emit(enum log_level lvl, const char *tag, int with_errno, const char *fmt, ...)
{
	int saved = errno;
	char msg[1024];
	char ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	/* One fprintf per line so lines from several processes sharing stderr stay whole. */
	if (with_errno)
		fprintf(stderr, "%s.%03ld %s[%s] %s: %s: %s\n", ts, now.tv_nsec / 1000000L,
		        log_prog, tag, level_names[lvl], msg, strerror(saved));
	else
		fprintf(stderr, "%s.%03ld %s[%s] %s: %s\n", ts, now.tv_nsec / 1000000L, log_prog,
		        tag, level_names[lvl], msg);
	errno = saved;
}
