/* SPDX-License-Identifier: GPL-3.0-or-later */
/* columns.c: the per-task columns of a result file, for `shoal failures`
 * and `shoal export`: which there are (every dataset of a group with one
 * row per task), read a block of rows at a time (memory bounded whatever
 * the task count), each value as text. */
#include <shoal/error.h>
#include <shoal/types.h>

#include "tool.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int tool_task_columns(const shoal_results *r, const char *group, tool_column **cols,
                      size_t *n)
{
    *cols = NULL;
    *n = 0;
    size_t count = 0;
    if (!shoal_results_has(r, group) || shoal_results_count(r, group, &count) != 0 ||
        count == 0)
        return 0;
    tool_column *c = calloc(count, sizeof *c);
    if (!c)
        return SHOAL_ENOMEM;
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        tool_column *t = &c[used];
        if (shoal_results_name(r, group, i, t->name, sizeof t->name) != 0)
            continue; /* a name too long to be Shoal's */
        snprintf(t->path, sizeof t->path, "%s/%s", group, t->name);
        if (shoal_results_column_info(r, t->path, &t->info) == 0 && t->info.type != 0 &&
            t->info.rows == shoal_results_ntasks(r))
            used++;
    }
    tool_lib_message_clear();
    if (used == 0) {
        free(c);
        c = NULL;
    }
    *cols = c;
    *n = used;
    return 0;
}

int tool_block_read(const shoal_results *r, tool_block *b, const tool_column *c,
                    uint64_t start, uint64_t count)
{
    const shoal_results_column *in = &c->info;
    size_t width = in->type == SHOAL_STRING ? (in->bytes ? in->bytes + 1 : 4096) : 8;
    uint64_t per = in->per_row ? in->per_row : 1;
    if (count > b->cap || b->width != width || !b->col || b->col->info.per_row != per ||
        b->col->info.type != in->type || b->col->info.is_unsigned != in->is_unsigned) {
        free(b->d);
        free(b->i);
        free(b->u);
        free(b->s);
        b->d = NULL;
        b->i = NULL;
        b->u = NULL;
        b->s = NULL;
        size_t elems = (size_t)(count * per);
        if (in->type == SHOAL_FLOAT64)
            b->d = malloc(elems * sizeof *b->d);
        else if (in->type == SHOAL_STRING)
            b->s = malloc(elems * width);
        else if (in->is_unsigned && in->bytes == 8)
            b->u = malloc(elems * sizeof *b->u);
        else
            b->i = malloc(elems * sizeof *b->i);
        if (!b->d && !b->i && !b->u && !b->s)
            return SHOAL_ERROR(SHOAL_ENOMEM, "out of memory reading %s", c->path);
        b->cap = count;
        b->width = width;
    }
    b->col = c;
    if (b->d)
        return shoal_results_read_column_double(r, c->path, start, count, b->d);
    if (b->s)
        return shoal_results_read_column_string(r, c->path, start, count, b->s, width);
    if (b->u)
        return shoal_results_read_column_uint64(r, c->path, start, count, b->u);
    return shoal_results_read_column_int64(r, c->path, start, count, b->i);
}

const char *tool_block_text(const tool_block *b, uint64_t row, uint64_t elem, int exact,
                            char *buf, size_t n)
{
    size_t k = (size_t)(row * b->col->info.per_row + elem);
    if (b->s)
        return b->s + k * b->width;
    if (b->u) {
        snprintf(buf, n, "%" PRIu64, b->u[k]);
    } else if (b->i) {
        snprintf(buf, n, "%" PRId64, b->i[k]);
    } else {
        double v = b->d[k];
        if (isnan(v))
            snprintf(buf, n, "NaN");
        else if (isinf(v))
            snprintf(buf, n, v > 0 ? "Inf" : "-Inf");
        else if (!exact)
            snprintf(buf, n, "%.10g", v);
        else /* float32 reads back from 9 digits, float64 from 17 */
            snprintf(buf, n, "%.*g", b->col->info.bytes == 4 ? 9 : 17, v);
    }
    return buf;
}

void tool_block_free(tool_block *b)
{
    free(b->d);
    free(b->i);
    free(b->u);
    free(b->s);
    memset(b, 0, sizeof *b);
}
