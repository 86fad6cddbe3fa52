/* log.h - human-readable logging to stderr, with levels and module tags.
 *
 * Each .c file that logs defines LOG_TAG before including this header:
 *     #define LOG_TAG "registrar"
 *     #include "onsight/log.h"
 * Calls below the current level cost one integer compare (the arguments are not evaluated).
 * The *_errno variants (log_warn, log_err) append ": strerror(errno)"; the *x variants do not,
 * as in OpenBSD's log.c.
 */
#ifndef ONSIGHT_LOG_H
#define ONSIGHT_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

#ifndef LOG_TAG
#define LOG_TAG "main"
#endif

extern int log_level_cur;

/* Sets the program name shown on every line and the level; safe to call again. */
void log_init(const char *prog, enum log_level level);
/* Parses "err|warn|info|debug"; returns -1 if unknown. */
int log_level_parse(const char *name);
void log_emit(enum log_level lvl, const char *tag, int with_errno, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

#define log_at(lvl, e, ...) \
	do { \
		if ((int)(lvl) <= log_level_cur) \
			log_emit((lvl), LOG_TAG, (e), __VA_ARGS__); \
	} while (0)

#define log_err(...) log_at(LOG_LVL_ERR, 1, __VA_ARGS__)
#define log_errx(...) log_at(LOG_LVL_ERR, 0, __VA_ARGS__)
#define log_warn(...) log_at(LOG_LVL_WARN, 1, __VA_ARGS__)
#define log_warnx(...) log_at(LOG_LVL_WARN, 0, __VA_ARGS__)
#define log_info(...) log_at(LOG_LVL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_at(LOG_LVL_DEBUG, 0, __VA_ARGS__)

#endif
