/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Rank-aware messages on stderr.
 *
 * Every line starts with "shoal: " and, in a run of several ranks, the rank
 * of a process other than 0 ("shoal: rank 3: ..."), so interleaved output
 * from many ranks stays attributable. Verbosity is process-wide. */
#ifndef SHOAL_LOG_H
#define SHOAL_LOG_H

#include <shoal/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SHOAL_LOG_QUIET = 0, /* errors only */
    SHOAL_LOG_INFO = 1,  /* + warnings, summary */
    SHOAL_LOG_VERBOSE = 2,
    SHOAL_LOG_DEBUG = 3
} shoal_log_level;

/* Tell the log module who we are (rank, size); called by the driver. */
SHOAL_API void shoal_log_set_rank(int rank, int nranks);
SHOAL_API void shoal_log_set_level(shoal_log_level level);
SHOAL_API shoal_log_level shoal_log_get_level(void);

SHOAL_API void shoal_log_error(const char *fmt, ...) SHOAL_PRINTF(1, 2);
/* Not an error, but shown even with -q: an interrupted, resumable run. */
SHOAL_API void shoal_log_notice(const char *fmt, ...) SHOAL_PRINTF(1, 2);
SHOAL_API void shoal_log_warn(const char *fmt, ...) SHOAL_PRINTF(1, 2);
SHOAL_API void shoal_log_info(const char *fmt, ...) SHOAL_PRINTF(1, 2);
SHOAL_API void shoal_log_verbose(const char *fmt, ...) SHOAL_PRINTF(1, 2);
SHOAL_API void shoal_log_debug(const char *fmt, ...) SHOAL_PRINTF(1, 2);

#ifdef __cplusplus
}
#endif

#endif
