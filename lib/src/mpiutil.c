/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mpiutil.c: agreement and the last-resort abort (see mpiutil.h). */
#include <shoal/log.h>

#include "mpiutil.h"

#include <stdlib.h>
#include <string.h>

int shoal__agree(MPI_Comm comm, int rc)
{
    int worst = rc;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, comm);
    return worst;
}

_Noreturn void shoal__abort(MPI_Comm comm, const char *why)
{
    shoal_log_error("cannot continue: %s; stopping every rank", why);
    MPI_Abort(comm, 4);
    abort(); /* MPI_Abort does not return; this tells the compiler so */
}

int shoal__inject(const char *step, int rank)
{
    const char *at = getenv("SHOAL_TEST_FAIL_AT");
    if (!at || !*at)
        return 0;
    size_t n = strlen(step);
    if (strncmp(at, step, n) || (at[n] != '\0' && at[n] != ':'))
        return 0;
    if (at[n] == ':' && atoi(at + n + 1) != rank)
        return 0;
    shoal_log_warn("test: injected failure at step '%s'", step);
    return 1;
}
