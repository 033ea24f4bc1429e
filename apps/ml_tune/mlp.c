/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mlp.c: the one-hidden-layer perceptron, its gradient, and its trainer
 * (mlp.h).
 *
 * W1 is stored input-major (w1[i * nhid + j] joins input i to hidden unit
 * j), so that the hidden layer is built as a sum of rows scaled by the
 * inputs: contiguous, vectorisable updates (a dot product would not be
 * vectorised without reassociating its sum), and the zero pixels, about
 * half of a digit's, skipped. */
#include "mlp.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ml_trainer {
    ml_mlp *m;
    const ml_data *d;
    size_t *order; /* the fitting samples, reshuffled every epoch */
    size_t nfit;
    double *v; /* momentum, laid out as m->p */
    double *g; /* the current minibatch's gradient */
    double lr, l2, momentum;
    size_t batch;
    int epochs;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void ml_hparams_default(ml_hparams *hp)
{
    hp->lr = 0.1;
    hp->l2 = 1e-4;
    hp->hidden = 64;
    hp->epochs = 27;
    hp->batch = ML_BATCH_DEFAULT;
    hp->momentum = ML_MOMENTUM_DEFAULT;
}

int ml_hparams_check(const ml_hparams *hp, char *err, size_t errlen)
{
    if (!(isfinite(hp->lr) && hp->lr > 0))
        set_err(err, errlen, "lr = %g: the learning rate must be a finite number > 0", hp->lr);
    else if (!(isfinite(hp->l2) && hp->l2 >= 0))
        set_err(err, errlen, "l2 = %g: the L2 penalty must be a finite number >= 0", hp->l2);
    else if (hp->hidden < 1 || hp->hidden > ML_HIDDEN_MAX)
        set_err(err, errlen, "hidden = %d: the hidden units must number 1..%d", hp->hidden,
                ML_HIDDEN_MAX);
    else if (hp->epochs < 0)
        set_err(err, errlen, "epochs = %d: the epochs must be >= 0", hp->epochs);
    else if (hp->batch < 1)
        set_err(err, errlen, "batch = %d: the minibatch size must be >= 1", hp->batch);
    else if (!(hp->momentum >= 0 && hp->momentum < 1))
        set_err(err, errlen, "momentum = %g: the momentum must be in [0, 1)", hp->momentum);
    else
        return 0;
    return -1;
}

ml_mlp *ml_mlp_alloc(int nin, int nhid, int nout)
{
    if (nin < 1 || nhid < 1 || nout < 1)
        return NULL;
    ml_mlp *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->nin = nin, m->nhid = nhid, m->nout = nout;
    size_t i = (size_t)nin, h = (size_t)nhid, o = (size_t)nout;
    m->np = i * h + h + h * o + o;
    m->p = calloc(m->np, sizeof *m->p);
    m->h = calloc(h, sizeof *m->h);
    m->dh = calloc(h, sizeof *m->dh);
    m->z = calloc(o, sizeof *m->z);
    if (!m->p || !m->h || !m->dh || !m->z) {
        ml_mlp_free(m);
        return NULL;
    }
    m->w1 = m->p;
    m->b1 = m->w1 + i * h;
    m->w2 = m->b1 + h;
    m->b2 = m->w2 + h * o;
    return m;
}

void ml_mlp_free(ml_mlp *m)
{
    if (!m)
        return;
    free(m->p);
    free(m->h);
    free(m->dh);
    free(m->z);
    free(m);
}

/* n weights uniform in (-a, a), a = sqrt(6 / (fan_in + fan_out)): Glorot &
 * Bengio (2010), which keeps tanh units out of saturation at the start. */
static void glorot(double *w, size_t n, int fan_in, int fan_out, gsl_rng *r)
{
    double a = sqrt(6.0 / (fan_in + fan_out));
    for (size_t q = 0; q < n; q++)
        w[q] = a * (2 * gsl_rng_uniform(r) - 1);
}

void ml_mlp_init(ml_mlp *m, gsl_rng *r)
{
    memset(m->p, 0, m->np * sizeof *m->p);
    glorot(m->w1, (size_t)m->nin * (size_t)m->nhid, m->nin, m->nhid, r);
    glorot(m->w2, (size_t)m->nhid * (size_t)m->nout, m->nhid, m->nout, r);
}

/* The hidden layer m->h and the output logits m->z for input x. */
static void forward(ml_mlp *m, const double *restrict x)
{
    size_t nh = (size_t)m->nhid;
    double *restrict h = m->h;
    memcpy(h, m->b1, nh * sizeof *h);
    for (int i = 0; i < m->nin; i++) {
        const double xi = x[i];
        if (xi == 0)
            continue;
        const double *restrict w = m->w1 + (size_t)i * nh;
        for (size_t j = 0; j < nh; j++)
            h[j] += xi * w[j];
    }
    /* tanh(a) = 1 - 2 / (e^2a + 1): exp costs a third of libm's tanh,
     * which took a third of the training time; its absolute error stays
     * at rounding level (the relative one grows only where tanh(a) ~ a is
     * tiny), and e^2a = inf or 0 gives +-1 exactly. */
    for (size_t j = 0; j < nh; j++)
        h[j] = 1 - 2 / (exp(2 * h[j]) + 1);
    for (int c = 0; c < m->nout; c++) {
        const double *restrict w = m->w2 + (size_t)c * nh;
        double s = m->b2[c];
        for (size_t j = 0; j < nh; j++)
            s += w[j] * h[j];
        m->z[c] = s;
    }
}

/* Turn the logits m->z into probabilities (shifted by their maximum, so exp
 * cannot overflow) and return -log p[y]. */
static double softmax_xent(ml_mlp *m, int y)
{
    double zmax = m->z[0];
    for (int c = 1; c < m->nout; c++)
        zmax = fmax(zmax, m->z[c]);
    double sum = 0;
    for (int c = 0; c < m->nout; c++)
        sum += exp(m->z[c] - zmax);
    double loss = log(sum) - (m->z[y] - zmax);
    for (int c = 0; c < m->nout; c++)
        m->z[c] = exp(m->z[c] - zmax) / sum;
    return loss;
}

/* Add scale times the gradient of -log p[y] at x to grad, from the state
 * forward and softmax_xent left: dL/dz = p - onehot(y), back through W2
 * and tanh' = 1 - h^2. */
static void backward(ml_mlp *m, const double *restrict x, int y, double scale,
                     double *restrict grad)
{
    size_t nh = (size_t)m->nhid;
    const double *restrict h = m->h;
    double *restrict dh = m->dh;
    double *restrict gw1 = grad, *restrict gb1 = gw1 + (size_t)m->nin * nh;
    double *restrict gw2 = gb1 + nh, *restrict gb2 = gw2 + nh * (size_t)m->nout;
    memset(dh, 0, nh * sizeof *dh);
    for (int c = 0; c < m->nout; c++) {
        const double dz = scale * (m->z[c] - (c == y));
        const double *restrict w = m->w2 + (size_t)c * nh;
        double *restrict g = gw2 + (size_t)c * nh;
        for (size_t j = 0; j < nh; j++) {
            g[j] += dz * h[j];
            dh[j] += dz * w[j];
        }
        gb2[c] += dz;
    }
    for (size_t j = 0; j < nh; j++) {
        dh[j] *= 1 - h[j] * h[j];
        gb1[j] += dh[j];
    }
    for (int i = 0; i < m->nin; i++) {
        const double xi = x[i];
        if (xi == 0)
            continue;
        double *restrict g = gw1 + (size_t)i * nh;
        for (size_t j = 0; j < nh; j++)
            g[j] += xi * dh[j];
    }
}

int ml_mlp_predict(ml_mlp *m, const double *x)
{
    forward(m, x);
    int best = 0;
    for (int c = 1; c < m->nout; c++)
        if (m->z[c] > m->z[best])
            best = c;
    return best;
}

double ml_mlp_accuracy(ml_mlp *m, const ml_data *d, const size_t *idx, size_t n)
{
    size_t right = 0;
    for (size_t s = 0; s < n; s++)
        right += ml_mlp_predict(m, d->x + idx[s] * (size_t)d->nfeat) == d->y[idx[s]];
    return n ? (double)right / (double)n : 0;
}

/* (l2 / 2) |W|^2, and l2 W added to grad's weight entries if grad. */
static double penalty(const ml_mlp *m, double l2, double *grad)
{
    size_t n1 = (size_t)m->nin * (size_t)m->nhid, n2 = (size_t)m->nhid * (size_t)m->nout;
    size_t off2 = (size_t)(m->w2 - m->p);
    double sq = 0;
    for (size_t q = 0; q < n1; q++)
        sq += m->w1[q] * m->w1[q];
    for (size_t q = 0; q < n2; q++)
        sq += m->w2[q] * m->w2[q];
    if (grad && l2 > 0) {
        for (size_t q = 0; q < n1; q++)
            grad[q] += l2 * m->w1[q];
        for (size_t q = 0; q < n2; q++)
            grad[off2 + q] += l2 * m->w2[q];
    }
    return 0.5 * l2 * sq;
}

double ml_mlp_loss_grad(ml_mlp *m, const ml_data *d, const size_t *idx, size_t n, double l2,
                        double *grad)
{
    if (grad)
        memset(grad, 0, m->np * sizeof *grad);
    double scale = n ? 1.0 / (double)n : 0, loss = 0;
    for (size_t s = 0; s < n; s++) {
        const double *x = d->x + idx[s] * (size_t)d->nfeat;
        forward(m, x);
        loss += softmax_xent(m, d->y[idx[s]]);
        if (grad)
            backward(m, x, d->y[idx[s]], scale, grad);
    }
    return scale * loss + penalty(m, l2, grad);
}

ml_trainer *ml_trainer_alloc(const ml_data *d, const size_t *fit, size_t nfit,
                             const ml_hparams *hp, gsl_rng *r)
{
    if (ml_hparams_check(hp, NULL, 0) != 0)
        return NULL;
    ml_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->m = ml_mlp_alloc(d->nfeat, hp->hidden, d->nclass);
    t->order = malloc((nfit ? nfit : 1) * sizeof *t->order);
    if (!t->m || !t->order) {
        ml_trainer_free(t);
        return NULL;
    }
    t->v = calloc(t->m->np, sizeof *t->v);
    t->g = calloc(t->m->np, sizeof *t->g);
    if (!t->v || !t->g) {
        ml_trainer_free(t);
        return NULL;
    }
    if (nfit)
        memcpy(t->order, fit, nfit * sizeof *fit);
    t->d = d;
    t->nfit = nfit;
    t->lr = hp->lr, t->l2 = hp->l2, t->momentum = hp->momentum;
    t->batch = (size_t)hp->batch;
    ml_mlp_init(t->m, r);
    return t;
}

void ml_trainer_free(ml_trainer *t)
{
    if (!t)
        return;
    ml_mlp_free(t->m);
    free(t->order);
    free(t->v);
    free(t->g);
    free(t);
}

void ml_trainer_epoch(ml_trainer *t, gsl_rng *r)
{
    if (t->nfit > 1)
        gsl_ran_shuffle(r, t->order, t->nfit, sizeof *t->order);
    double *restrict p = t->m->p, *restrict v = t->v;
    const double *restrict g = t->g;
    for (size_t b = 0; b < t->nfit; b += t->batch) {
        size_t nb = t->nfit - b < t->batch ? t->nfit - b : t->batch;
        ml_mlp_loss_grad(t->m, t->d, t->order + b, nb, t->l2, t->g);
        for (size_t q = 0; q < t->m->np; q++) {
            v[q] = t->momentum * v[q] - t->lr * g[q];
            p[q] += v[q];
        }
    }
    t->epochs++;
}

int ml_trainer_epochs(const ml_trainer *t)
{
    return t->epochs;
}

ml_mlp *ml_trainer_model(ml_trainer *t)
{
    return t->m;
}
