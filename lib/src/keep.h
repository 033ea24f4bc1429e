/* SPDX-License-Identifier: GPL-3.0-or-later */
/* keep.h (internal): report every mistake, return the first. */
#ifndef SHOAL_KEEP_H
#define SHOAL_KEEP_H

/* Keep the first error code in rc, go on to report the others. */
#define KEEP(call)             \
    do {                       \
        int r_ = (call);       \
        if (r_ < 0 && rc == 0) \
            rc = r_;           \
    } while (0)

#endif
