/* signals.c: the stop flag and its handlers (see signals.h). The handlers
 * only touch sig_atomic_t flags and call async-signal-safe functions
 * (clock_gettime, alarm, write, _exit). */
#include <shoal/clock.h>

#include "signals.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t shoal__stop_sig = 0;
static volatile sig_atomic_t first_second = 0; /* CLOCK_MONOTONIC seconds */
static unsigned grace = 30;

static const int stop_signals[] = {SIGTERM, SIGINT, SIGUSR1};
#define NSTOP (sizeof stop_signals / sizeof stop_signals[0])
static struct sigaction saved[NSTOP], saved_alarm;
static int installed = 0;

static void say(const char *msg) { (void)!write(2, msg, strlen(msg)); }

static long now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec;
}

static void on_stop(int sig)
{
    if (shoal__stop_sig == 0) {
        shoal__stop_sig = sig;
        first_second = (sig_atomic_t)now_seconds();
        alarm(grace);
        return;
    }
    /* A repeat within a second is the same request delivered twice. */
    if (now_seconds() - (long)first_second > 1) {
        say("shoal: second signal: stopping now; the file stays valid and the "
            "run can be resumed with --resume\n");
        _exit(3);
    }
}

static void on_alarm(int sig)
{
    (void)sig;
    if (shoal__stop_sig == 0)
        return;
    say("shoal: grace period over: stopping now; rows of unfinished ranges are "
        "not written, the file stays valid and the run can be resumed with "
        "--resume\n");
    _exit(3);
}

void shoal__signals_install(double grace_seconds)
{
    grace = grace_seconds < 1 ? 1 : (unsigned)(grace_seconds + 0.5);
    shoal__stop_sig = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* file writes in progress just go on */
    sa.sa_handler = on_stop;
    for (size_t i = 0; i < NSTOP; i++)
        sigaction(stop_signals[i], &sa, &saved[i]);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, &saved_alarm);
    installed = 1;
}

void shoal__signals_restore(void)
{
    if (!installed)
        return;
    alarm(0);
    for (size_t i = 0; i < NSTOP; i++)
        sigaction(stop_signals[i], &saved[i], NULL);
    sigaction(SIGALRM, &saved_alarm, NULL);
    installed = 0;
}

int shoal__signals_stop_check(void *ctx, double *deadline)
{
    (void)ctx;
    int sig = shoal__stop_sig;
    if (sig && deadline)
        *deadline = (double)first_second + grace; /* when the alarm rings */
    return sig;
}
