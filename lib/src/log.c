/* SPDX-License-Identifier: GPL-3.0-or-later */
/* log.c: rank-aware messages on stderr, and the live progress line.
 *
 * One line per message, built in a buffer and written with one fputs so
 * lines from different ranks sharing a terminal do not interleave mid-line.
 * While a live line is shown (progress.h, a terminal), a message first
 * clears it and then draws it again below itself. */
#include <shoal/log.h>

#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int log_rank = 0;
static int log_nranks = 1;
static shoal_log_level log_level = SHOAL_LOG_INFO;
static char live[512]; /* the live line, "" when none is shown */

#define CLEAR_LINE "\r\033[K"

void shoal__log_live(const char *line)
{
    snprintf(live, sizeof live, "%s", line);
    fputs(CLEAR_LINE, stderr);
    fputs(live, stderr);
    fflush(stderr);
}

void shoal__log_live_end(int keep)
{
    if (!live[0])
        return;
    fputs(keep ? "\n" : CLEAR_LINE, stderr);
    fflush(stderr);
    live[0] = '\0';
}

void shoal_log_set_rank(int rank, int nranks)
{
    log_rank = rank;
    log_nranks = nranks;
}

void shoal_log_set_level(shoal_log_level level) { log_level = level; }

shoal_log_level shoal_log_get_level(void) { return log_level; }

static void vlog(const char *kind, const char *fmt, va_list ap) SHOAL_PRINTF(2, 0);
static void vlog(const char *kind, const char *fmt, va_list ap)
{
    char buf[4096];
    int n;
    if (log_nranks > 1 && log_rank != 0)
        n = snprintf(buf, sizeof buf, "shoal: rank %d: %s", log_rank, kind);
    else
        n = snprintf(buf, sizeof buf, "shoal: %s", kind);
    if (n < 0)
        return;
    if ((size_t)n < sizeof buf)
        vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    buf[sizeof buf - 2] = '\0';
    size_t len = 0;
    while (buf[len])
        len++;
    buf[len] = '\n';
    buf[len + 1] = '\0';
    if (live[0])
        fputs(CLEAR_LINE, stderr);
    fputs(buf, stderr);
    if (live[0])
        fputs(live, stderr);
    fflush(stderr);
}

#define SHOAL__LOG_FN(fn, level, kind)  \
    void fn(const char *fmt, ...)       \
    {                                   \
        if (log_level < (level))        \
            return;                     \
        va_list ap;                     \
        va_start(ap, fmt);              \
        vlog(kind, fmt, ap);            \
        va_end(ap);                     \
    }

SHOAL__LOG_FN(shoal_log_error, SHOAL_LOG_QUIET, "error: ")
SHOAL__LOG_FN(shoal_log_notice, SHOAL_LOG_QUIET, "notice: ")
SHOAL__LOG_FN(shoal_log_warn, SHOAL_LOG_INFO, "warning: ")
SHOAL__LOG_FN(shoal_log_info, SHOAL_LOG_INFO, "")
SHOAL__LOG_FN(shoal_log_verbose, SHOAL_LOG_VERBOSE, "")
SHOAL__LOG_FN(shoal_log_debug, SHOAL_LOG_DEBUG, "debug: ")
