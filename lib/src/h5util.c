/* h5util.c: HDF5 error translation. HDF5 prints its whole error stack by
 * default; we switch that off and report the innermost description. */
#include "h5util.h"

#include <stdio.h>
#include <string.h>

void shoal__h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

typedef struct {
    char *buf;
    size_t n;
} walk_ctx;

static herr_t walk_cb(unsigned pos, const H5E_error2_t *e, void *data)
{
    walk_ctx *w = data;
    if (pos == 0 && e->desc)
        snprintf(w->buf, w->n, "%s", e->desc);
    return 0;
}

void shoal__h5_message(char *buf, size_t n)
{
    if (n == 0)
        return;
    buf[0] = '\0';
    walk_ctx w = {buf, n};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &w);
}
