/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mpiutil.h (internal): the few MPI patterns the driver and the store share.
 *
 * Every collective step follows one rule: agree first, then act. A rank that
 * fails locally still calls shoal__agree with its code, so every rank leaves
 * the step with the same verdict and none waits in a collective the others
 * skipped. shoal__abort is for the cases where ranks would otherwise diverge
 * and no agreement is possible (a few bytes of memory missing on one rank). */
#ifndef SHOAL_MPIUTIL_H
#define SHOAL_MPIUTIL_H

#include <mpi.h>

/* Collective: the most negative of every rank's rc (0 when all are 0). */
int shoal__agree(MPI_Comm comm, int rc);

/* Report why on this rank and end the whole job with exit status 4. */
_Noreturn void shoal__abort(MPI_Comm comm, const char *why);

/* Test-only fault injection: true when the environment variable
 * SHOAL_TEST_FAIL_AT names this step ("STEP" on every rank, or "STEP:RANK"
 * on one). The collective steps of the store call it after their real
 * work, so tests can prove that a failure on one rank at any step still
 * sends every rank down the same error path. Never set in normal use. */
int shoal__inject(const char *step, int rank);

#endif
