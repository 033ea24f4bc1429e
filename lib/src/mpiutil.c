/* mpiutil.c: agreement and the last-resort abort (see mpiutil.h). */
#include <shoal/log.h>

#include "mpiutil.h"

#include <stdlib.h>

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
