/* SPDX-License-Identifier: GPL-3.0-or-later */
/* heat1d: a legacy-style program run as a Shoal task (configs/exec_heat.ini).
 *
 *   heat1d ALPHA NX T_END
 *
 * Explicit finite differences for u_t = ALPHA u_xx on [0, 1], u = 0 at both
 * ends, u(x, 0) = sin(pi x), up to time T_END in steps of at most
 * 0.4 dx^2 / ALPHA (the stable limit is 0.5). Like many older
 * codes it takes positional arguments, prints a banner and progress, and
 * leaves its results in a file in the current directory, results.dat, as
 * name=value lines, which shoal-exec reads ([command] output_file). It
 * knows nothing of Shoal. Exit status 2 on bad arguments, 3 if the scheme
 * blows up. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: heat1d ALPHA NX T_END\n");
        return 2;
    }
    double alpha = atof(argv[1]);
    int nx = atoi(argv[2]);
    double t_end = atof(argv[3]);
    if (!(alpha > 0) || nx < 3 || !(t_end > 0)) {
        fprintf(stderr, "heat1d: bad arguments: alpha > 0, nx >= 3, t_end > 0\n");
        return 2;
    }
    double dx = 1.0 / (nx - 1);
    int steps = (int)ceil(t_end / (0.4 * dx * dx / alpha));
    double dt = t_end / steps, r = alpha * dt / (dx * dx);
    double *u = malloc((size_t)nx * sizeof *u), *v = malloc((size_t)nx * sizeof *v);
    if (!u || !v)
        return 4;
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < nx; i++)
        u[i] = sin(pi * i * dx);
    printf("HEAT1D v1.0  alpha=%g nx=%d steps=%d dt=%g\n", alpha, nx, steps, dt);
    for (int s = 0; s < steps; s++) {
        v[0] = v[nx - 1] = 0;
        for (int i = 1; i < nx - 1; i++)
            v[i] = u[i] + r * (u[i - 1] - 2 * u[i] + u[i + 1]);
        double *t = u;
        u = v;
        v = t;
        if ((s + 1) % (steps / 4 > 0 ? steps / 4 : 1) == 0)
            printf("  step %d of %d\n", s + 1, steps);
    }
    double peak = 0, energy = 0;
    for (int i = 0; i < nx; i++) {
        peak = fabs(u[i]) > peak ? fabs(u[i]) : peak;
        energy += u[i] * u[i] * dx;
    }
    if (!isfinite(peak)) {
        fprintf(stderr, "heat1d: the solution blew up\n");
        return 3;
    }
    /* The exact peak decays as exp(-alpha pi^2 t). */
    double exact = exp(-alpha * pi * pi * t_end);
    FILE *f = fopen("results.dat", "w");
    if (!f) {
        perror("heat1d: results.dat");
        return 4;
    }
    fprintf(f, "# heat1d results\nsteps=%d\npeak=%.17g\nexact_peak=%.17g\nenergy=%.17g\n",
            steps, peak, exact, energy);
    fclose(f);
    free(u);
    free(v);
    printf("done\n");
    return 0;
}
