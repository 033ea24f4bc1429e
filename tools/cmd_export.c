/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cmd_export.c: `shoal export FILE` -- one row per task, as CSV or TSV, for
 * spreadsheets, R and pandas.
 *
 * Columns, in this order: task (the index), the parameters (/params, then
 * tasks/point and tasks/replicate), the results (/results) and the task
 * columns (status, rank, seconds, error, attempts). Each group's datasets
 * come in name order; a name found in two groups is written group/name in
 * both. An array field becomes one column per element, name[i] or
 * name[i][j] (row-major, as h5py's value.flatten()), or with --arrays skip
 * is left out with a note on stderr. --columns picks columns by header
 * name (an array field by its name picks all its elements) in the order
 * given.
 *
 * Values: integers as they are, floats with the digits that read back to
 * the same value (17 for float64, 9 for float32) and NaN, Inf, -Inf as R
 * and Python read them; strings quoted when they hold the separator, a
 * quote or a line break, a quote inside doubled (RFC 4180; TSV the same
 * way). Rows are read a block at a time, so memory stays bounded. */
#include <shoal/error.h>

#include "tool.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_BYTES (8u << 20) /* a block of rows holds about this much */
#define BLOCK_ROWS 65536

enum { OPT_TSV, OPT_ARRAYS, OPT_COLUMNS, OPT_DONE };

static const char *const task_columns[] = {"status", "rank", "seconds", "error", "attempts"};

typedef struct {
    size_t col;        /* in the column list */
    uint64_t elem;     /* element of the row */
    char header[200];
    int array;         /* from an array field */
} outcol;

typedef struct {
    tool_column *cols;
    char (*shown)[160]; /* each column's name in the header */
    size_t ncols;
    outcol *out;
    size_t nout;
} plan;

/* Append the columns of group (or of the listed names in tasks/). */
static int add_group(const shoal_results *r, plan *p, const char *group,
                     const char *const *names, size_t nnames)
{
    tool_column *c = NULL;
    size_t n = 0;
    int rc = tool_task_columns(r, group, &c, &n);
    if (rc)
        return rc;
    tool_column *grown = realloc(p->cols, (p->ncols + n) * sizeof *grown);
    if (!grown && p->ncols + n) {
        free(c);
        return SHOAL_ENOMEM;
    }
    p->cols = grown;
    for (size_t k = 0; k < (names ? nnames : 1); k++)
        for (size_t i = 0; i < n; i++)
            if (!names || !strcmp(c[i].name, names[k]))
                p->cols[p->ncols++] = c[i];
    free(c);
    return 0;
}

/* Every column of the file, with its header names; collisions qualified. */
static int list_columns(const shoal_results *r, plan *p)
{
    static const char *const index_cols[] = {"point", "replicate"};
    int rc = add_group(r, p, "params", NULL, 0);
    if (!rc)
        rc = add_group(r, p, "tasks", index_cols, 2);
    if (!rc)
        rc = add_group(r, p, "results", NULL, 0);
    if (!rc)
        rc = add_group(r, p, "tasks", task_columns, 5);
    if (rc)
        return rc;
    p->shown = calloc(p->ncols + 1, sizeof *p->shown);
    if (!p->shown)
        return SHOAL_ENOMEM;
    for (size_t i = 0; i < p->ncols; i++) {
        int clash = !strcmp(p->cols[i].name, "task");
        for (size_t j = 0; j < p->ncols && !clash; j++)
            clash = j != i && !strcmp(p->cols[i].name, p->cols[j].name);
        snprintf(p->shown[i], sizeof p->shown[i], "%s", clash ? p->cols[i].path : p->cols[i].name);
    }
    return 0;
}

/* The header of element e of column c: name, name[i], name[i][j]... */
static void element_header(const tool_column *c, const char *name, uint64_t e, char *buf,
                           size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "%s", name);
    uint64_t idx[7], rest = e;
    for (int d = c->info.ndims - 1; d >= 0; d--) {
        idx[d] = rest % c->info.dims[d];
        rest /= c->info.dims[d];
    }
    for (int d = 0; d < c->info.ndims && len < n; d++)
        len += (size_t)snprintf(buf + len, n - len, "[%" PRIu64 "]", idx[d]);
}

static int add_out(plan *p, size_t col, uint64_t elem)
{
    outcol *o = realloc(p->out, (p->nout + 1) * sizeof *o);
    if (!o)
        return SHOAL_ENOMEM;
    p->out = o;
    o = &p->out[p->nout++];
    o->col = col;
    o->elem = elem;
    o->array = p->cols[col].info.ndims > 0;
    element_header(&p->cols[col], p->shown[col], elem, o->header, sizeof o->header);
    return 0;
}

/* The output columns: all (arrays flattened or skipped), or those named. */
static int choose(plan *p, const tool_args *a, int skip_arrays)
{
    if (!a->opt[OPT_COLUMNS]) {
        char skipped[1024] = "";
        size_t used = 0;
        for (size_t i = 0; i < p->ncols; i++) {
            const tool_column *c = &p->cols[i];
            if (c->info.ndims > 0 && skip_arrays) {
                used += (size_t)snprintf(skipped + used, used < sizeof skipped ? sizeof skipped - used : 0,
                                         "%s%s", used ? ", " : "", p->shown[i]);
                if (used >= sizeof skipped)
                    used = sizeof skipped - 1;
                continue;
            }
            for (uint64_t e = 0; e < c->info.per_row; e++)
                if (add_out(p, i, e))
                    return SHOAL_ENOMEM;
        }
        if (skipped[0])
            fprintf(stderr, "shoal: note: array fields left out (--arrays skip): %s\n", skipped);
        return 0;
    }
    const char *list = a->opt[OPT_COLUMNS];
    while (*list) {
        size_t len = strcspn(list, ",");
        char want[200];
        snprintf(want, sizeof want, "%.*s", (int)len, list);
        list += len + (list[len] == ',');
        if (!want[0] || !strcmp(want, "task"))
            continue;
        int found = 0;
        for (size_t i = 0; i < p->ncols && !found; i++) {
            const tool_column *c = &p->cols[i];
            if (!strcmp(want, p->shown[i])) {
                for (uint64_t e = 0; e < c->info.per_row; e++)
                    if (add_out(p, i, e))
                        return SHOAL_ENOMEM;
                found = 1;
            }
            for (uint64_t e = 0; e < c->info.per_row && !found && c->info.ndims > 0; e++) {
                char h[200];
                element_header(c, p->shown[i], e, h, sizeof h);
                if (!strcmp(h, want)) {
                    found = 1;
                    if (add_out(p, i, e))
                        return SHOAL_ENOMEM;
                }
            }
        }
        if (!found) {
            char names[2048] = "";
            size_t used = 0;
            for (size_t i = 0; i < p->ncols && used < sizeof names; i++)
                used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                         i ? ", " : "", p->shown[i]);
            return tool_fail(TOOL_USAGE, "--columns: '%s' has no column '%s'; its columns: "
                                         "task, %s", a->file, want, names);
        }
    }
    return 0;
}

/* Write s as one field, quoted if it needs to be. */
static void put_field(const char *s, char sep)
{
    if (!strchr(s, sep) && !strpbrk(s, "\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static int write_rows(const shoal_results *r, const plan *p, char sep, int only_done)
{
    uint64_t n = shoal_results_ntasks(r);
    size_t row_bytes = 1;
    for (size_t i = 0; i < p->ncols; i++)
        row_bytes += (size_t)p->cols[i].info.per_row *
                     (p->cols[i].info.type == SHOAL_STRING ? p->cols[i].info.bytes + 1 : 8);
    uint64_t rows = BLOCK_BYTES / row_bytes;
    rows = rows < 1 ? 1 : rows > BLOCK_ROWS ? BLOCK_ROWS : rows;
    tool_block *b = calloc(p->ncols + 1, sizeof *b);
    char *need = calloc(p->ncols + 1, 1);
    uint8_t *st = malloc((size_t)rows);
    int rc = b && need && st ? 0 : SHOAL_ENOMEM;
    for (size_t k = 0; k < p->nout; k++)
        if (need)
            need[p->out[k].col] = 1;
    for (uint64_t off = 0; rc == 0 && off < n; off += rows) {
        uint64_t count = n - off < rows ? n - off : rows;
        if (only_done)
            rc = shoal_results_read_status(r, off, count, st);
        for (size_t i = 0; i < p->ncols && rc == 0; i++)
            if (need[i])
                rc = tool_block_read(r, &b[i], &p->cols[i], off, count);
        for (uint64_t row = 0; rc == 0 && row < count; row++) {
            if (only_done && st[row] != SHOAL_STATUS_DONE)
                continue;
            printf("%" PRIu64, off + row);
            for (size_t k = 0; k < p->nout; k++) {
                char buf[64];
                putchar(sep);
                put_field(tool_block_text(&b[p->out[k].col], row, p->out[k].elem, 1, buf,
                                          sizeof buf), sep);
            }
            putchar('\n');
        }
    }
    for (size_t i = 0; b && i < p->ncols; i++)
        tool_block_free(&b[i]);
    free(b);
    free(need);
    free(st);
    return rc;
}

int tool_export(const tool_args *a)
{
    const char *arrays = a->opt[OPT_ARRAYS] ? a->opt[OPT_ARRAYS] : "flatten";
    if (strcmp(arrays, "flatten") && strcmp(arrays, "skip"))
        return tool_fail(TOOL_USAGE, "--arrays '%s': expected flatten or skip", arrays);
    char sep = a->opt[OPT_TSV] ? '\t' : ',';
    shoal_results *r = NULL;
    int rc = tool_open(a->file, &r);
    if (rc)
        return rc;
    plan p = {0};
    int lib = list_columns(r, &p);
    if (lib == 0) {
        rc = choose(&p, a, !strcmp(arrays, "skip"));
        lib = rc == SHOAL_ENOMEM ? rc : 0;
        rc = rc == SHOAL_ENOMEM ? 0 : rc;
    }
    if (lib == 0 && rc == 0) {
        static char out[1 << 20];
        setvbuf(stdout, out, _IOFBF, sizeof out);
        fputs("task", stdout);
        for (size_t k = 0; k < p.nout; k++) {
            putchar(sep);
            put_field(p.out[k].header, sep);
        }
        putchar('\n');
        lib = write_rows(r, &p, sep, a->opt[OPT_DONE] != NULL);
    }
    if (lib)
        rc = lib == SHOAL_ENOMEM ? tool_fail(TOOL_IO, "out of memory exporting '%s'", a->file)
                                 : tool_read_failed(a->file, "the columns");
    else if (rc == 0 && fflush(stdout) != 0)
        rc = tool_fail(TOOL_IO, "cannot write the export: standard output failed");
    free(p.cols);
    free(p.shown);
    free(p.out);
    shoal_results_close(r);
    return rc;
}
