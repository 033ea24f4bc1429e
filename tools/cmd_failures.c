/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cmd_failures.c: `shoal failures FILE` -- the failed tasks (status 2),
 * lowest index first: task, code, attempts, parameters, message.
 *
 * The code comes from /tasks/error and the attempts from /tasks/attempts,
 * which every failed task has; the message from /failures, which keeps the
 * first 64 failures per rank (and segment): a task beyond those says so.
 * /failures is small (slots x 160 bytes) and read whole; the task columns
 * are read a block at a time, and only for blocks with a failure. */
#include <shoal/error.h>

#include "tool.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 65536

typedef struct {
    const shoal_results *r;
    const char *file;
    tool_column *params;    /* scalar parameters, then point and replicate */
    size_t nparams;
    tool_block *pblocks;
    tool_column error, attempts;
    tool_block eblock, ablock;
    shoal_store_failure *kept; /* /failures, by task */
    size_t nkept;
    int task_width;
} listing;

/* The kept failure of task, or NULL (the latest slot, after a retry). */
static const shoal_store_failure *kept_for(const listing *l, int64_t task)
{
    size_t lo = 0, hi = l->nkept;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->kept[mid].task < task)
            lo = mid + 1;
        else
            hi = mid;
    }
    const shoal_store_failure *f = NULL;
    for (; lo < l->nkept && l->kept[lo].task == task; lo++)
        f = &l->kept[lo];
    return f;
}

/* The parameter columns: /params (scalars only), tasks/point, tasks/replicate. */
static int param_columns(listing *l)
{
    tool_column *p = NULL;
    size_t n = 0;
    int rc = tool_task_columns(l->r, "params", &p, &n);
    if (rc)
        return rc;
    tool_column *all = calloc(n + 2, sizeof *all);
    if (!all) {
        free(p);
        return SHOAL_ENOMEM;
    }
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].info.per_row == 1)
            all[used++] = p[i];
    free(p);
    static const char *const extra[] = {"point", "replicate"};
    for (size_t k = 0; k < 2; k++) {
        tool_column *t = &all[used];
        snprintf(t->name, sizeof t->name, "%s", extra[k]);
        snprintf(t->path, sizeof t->path, "tasks/%s", extra[k]);
        if (shoal_results_column_info(l->r, t->path, &t->info) == 0 &&
            t->info.rows == shoal_results_ntasks(l->r))
            used++;
    }
    tool_lib_message_clear();
    l->params = all;
    l->nparams = used;
    l->pblocks = calloc(used + 1, sizeof *l->pblocks);
    return l->pblocks ? 0 : SHOAL_ENOMEM;
}

static int read_kept(listing *l)
{
    shoal_results_column c;
    if (shoal_results_column_info(l->r, "failures/task", &c) != 0 || c.rows == 0) {
        tool_lib_message_clear();
        return 0; /* no /failures: every message reads "not kept" */
    }
    l->kept = calloc((size_t)c.rows, sizeof *l->kept);
    if (!l->kept)
        return SHOAL_ENOMEM;
    return shoal_results_read_failures(l->r, l->kept, (size_t)c.rows, &l->nkept);
}

static void print_header(const listing *l)
{
    printf("%*s  %6s  %8s", l->task_width, "task", "code", "attempts");
    for (size_t k = 0; k < l->nparams; k++)
        printf("  %-12s", l->params[k].name);
    printf("  message\n");
}

/* List the failed tasks of block [start, start+count) (st: their status). */
static int list_block(listing *l, const uint8_t *st, uint64_t start, uint64_t count,
                      uint64_t *shown, uint64_t limit)
{
    int any = 0;
    for (uint64_t i = 0; i < count && !any; i++)
        any = st[i] == SHOAL_STATUS_FAILED;
    if (!any)
        return 0;
    int rc = tool_block_read(l->r, &l->eblock, &l->error, start, count);
    if (rc == 0)
        rc = tool_block_read(l->r, &l->ablock, &l->attempts, start, count);
    for (size_t k = 0; k < l->nparams && rc == 0; k++)
        rc = tool_block_read(l->r, &l->pblocks[k], &l->params[k], start, count);
    if (rc)
        return rc;
    for (uint64_t i = 0; i < count && (!limit || *shown < limit); i++) {
        if (st[i] != SHOAL_STATUS_FAILED)
            continue;
        char buf[64];
        printf("%*" PRIu64 "  %6s", l->task_width, start + i,
               tool_block_text(&l->eblock, i, 0, 0, buf, sizeof buf));
        printf("  %8s", tool_block_text(&l->ablock, i, 0, 0, buf, sizeof buf));
        for (size_t k = 0; k < l->nparams; k++)
            printf("  %-12s", tool_block_text(&l->pblocks[k], i, 0, 0, buf, sizeof buf));
        const shoal_store_failure *f = kept_for(l, (int64_t)(start + i));
        printf("  %s\n", f ? f->message : "(message not kept: only the first 64 "
                                          "failures per rank are)");
        ++*shown;
    }
    return 0;
}

int tool_failures(const tool_args *a)
{
    uint64_t limit = 0;
    if (a->opt[0]) {
        char *end;
        unsigned long long v = strtoull(a->opt[0], &end, 10);
        if (*end || end == a->opt[0] || a->opt[0][0] == '-' || v == 0)
            return tool_fail(TOOL_USAGE, "--limit '%s': expected a whole number of tasks, "
                                         "1 or more", a->opt[0]);
        limit = v;
    }
    listing l = {0};
    shoal_results *r = NULL;
    int rc = tool_open(a->file, &r);
    if (rc)
        return rc;
    l.r = r;
    l.file = a->file;
    uint64_t n = shoal_results_ntasks(r), failed = 0, shown = 0;
    snprintf(l.error.name, sizeof l.error.name, "error");
    snprintf(l.error.path, sizeof l.error.path, "tasks/error");
    snprintf(l.attempts.name, sizeof l.attempts.name, "attempts");
    snprintf(l.attempts.path, sizeof l.attempts.path, "tasks/attempts");
    uint8_t *st = malloc(BLOCK);
    int lib = !st ? SHOAL_ENOMEM : 0;
    if (!lib)
        lib = shoal_results_column_info(r, "tasks/error", &l.error.info);
    if (!lib)
        lib = shoal_results_column_info(r, "tasks/attempts", &l.attempts.info);
    if (!lib)
        lib = param_columns(&l);
    if (!lib)
        lib = read_kept(&l);
    for (uint64_t off = 0; !lib && off < n; off += BLOCK) {
        uint64_t k = n - off < BLOCK ? n - off : BLOCK;
        lib = shoal_results_read_status(r, off, k, st);
        for (uint64_t i = 0; !lib && i < k; i++)
            failed += st[i] == SHOAL_STATUS_FAILED;
    }
    l.task_width = 4;
    for (uint64_t v = n; v >= 10000; v /= 10)
        l.task_width++;
    if (!lib && failed == 0)
        printf("no failed tasks (of %" PRIu64 ") in %s\n", n, a->file);
    else if (!lib)
        print_header(&l);
    for (uint64_t off = 0; !lib && failed && off < n && (!limit || shown < limit);
         off += BLOCK) {
        uint64_t k = n - off < BLOCK ? n - off : BLOCK;
        lib = shoal_results_read_status(r, off, k, st);
        if (!lib)
            lib = list_block(&l, st, off, k, &shown, limit);
    }
    if (!lib && failed)
        printf("%" PRIu64 " failed task%s of %" PRIu64 "%s\n", failed, failed == 1 ? "" : "s",
               n, shown < failed ? " (--limit: not all listed)" : "");
    if (lib)
        rc = lib == SHOAL_ENOMEM ? tool_fail(TOOL_IO, "out of memory listing the failures "
                                                      "of '%s'", a->file)
                                 : tool_read_failed(a->file, "the failed tasks");
    else if (fflush(stdout) != 0)
        rc = tool_fail(TOOL_IO, "cannot write the list: standard output failed");
    for (size_t k = 0; l.pblocks && k < l.nparams; k++)
        tool_block_free(&l.pblocks[k]);
    tool_block_free(&l.eblock);
    tool_block_free(&l.ablock);
    free(l.pblocks);
    free(l.params);
    free(l.kept);
    free(st);
    shoal_results_close(r);
    return rc;
}
