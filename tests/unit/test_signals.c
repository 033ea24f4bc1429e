/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_signals.c: the stop flag, the grace alarm and how a stop told by
 * another rank (shoal__signals_stop_notify) combines with this rank's own
 * signals (signals.h). Every test runs in its own process (check forks), so
 * handlers and alarms do not leak from one test to the next. */
#include <shoal/clock.h>

#include "signals.h"

#include <check.h>

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Seconds until the process's alarm rings (0: none). */
static double alarm_left(void)
{
    struct itimerval it;
    getitimer(ITIMER_REAL, &it);
    return (double)it.it_value.tv_sec + 1e-6 * (double)it.it_value.tv_usec;
}

static void pause_for(double seconds)
{
    double end = shoal_now() + seconds;
    while (shoal_now() < end) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
}

START_TEST(test_no_stop)
{
    shoal__signals_install(30);
    double d = -1;
    ck_assert_int_eq(shoal__signals_stop_check(NULL, &d), 0);
    ck_assert_int_eq(shoal__stop_requested(), 0);
    ck_assert(alarm_left() == 0);
    shoal__signals_restore();
}
END_TEST

START_TEST(test_own_signal_deadline)
{
    shoal__signals_install(7);
    double t0 = shoal_now();
    raise(SIGUSR1);
    double d = 0;
    ck_assert_int_eq(shoal__signals_stop_check(NULL, &d), SIGUSR1);
    ck_assert_msg(fabs(d - (t0 + 7)) < 0.5, "deadline %+.3f s off", d - (t0 + 7));
    ck_assert(alarm_left() > 6 && alarm_left() <= 7);
    shoal__signals_restore();
    ck_assert(alarm_left() == 0);
}
END_TEST

/* A rank told of another's stop stops too and arms its alarm for the
 * remaining time of that rank's grace period. */
START_TEST(test_notify_stops_and_arms)
{
    shoal__signals_install(30);
    double deadline = shoal_now() + 5;
    shoal__signals_stop_notify(NULL, SIGUSR1, deadline);
    ck_assert_int_eq(shoal__stop_requested(), SIGUSR1);
    double d = 0;
    ck_assert_int_eq(shoal__signals_stop_check(NULL, &d), SIGUSR1);
    ck_assert(fabs(d - deadline) < 1e-6);
    ck_assert_msg(alarm_left() > 4.5 && alarm_left() <= 5, "alarm in %.3f s",
                  alarm_left());
    shoal__signals_restore();
}
END_TEST

/* Its own signal after that keeps the earlier deadline. */
START_TEST(test_notify_then_signal_keeps_deadline)
{
    shoal__signals_install(30);
    double deadline = shoal_now() + 5;
    shoal__signals_stop_notify(NULL, SIGTERM, deadline);
    raise(SIGUSR1);
    ck_assert_int_eq(shoal__stop_requested(), SIGTERM);
    double d = 0;
    shoal__signals_stop_check(NULL, &d);
    ck_assert_msg(fabs(d - deadline) < 1e-6, "deadline %+.3f s off", d - deadline);
    ck_assert_msg(alarm_left() > 3.5 && alarm_left() <= 5.5, "alarm in %.3f s",
                  alarm_left());
    shoal__signals_restore();
}
END_TEST

/* A later deadline told does not postpone this rank's own alarm. */
START_TEST(test_signal_then_later_notify)
{
    shoal__signals_install(4);
    raise(SIGUSR1);
    shoal__signals_stop_notify(NULL, SIGTERM, shoal_now() + 60);
    ck_assert_int_eq(shoal__stop_requested(), SIGUSR1);
    ck_assert_msg(alarm_left() > 3 && alarm_left() <= 4, "alarm in %.3f s",
                  alarm_left());
    shoal__signals_restore();
}
END_TEST

/* Told, then signalled more than a second later: that is this rank's first
 * signal, not a second one. */
START_TEST(test_notify_then_signal_is_first)
{
    shoal__signals_install(30);
    shoal__signals_stop_notify(NULL, SIGUSR1, shoal_now() + 30);
    pause_for(1.2);
    raise(SIGUSR1);
    ck_assert_int_eq(shoal__stop_requested(), SIGUSR1); /* still here */
    shoal__signals_restore();
}
END_TEST

/* A deadline already past: the alarm rings at once (exit 3). */
START_TEST(test_notify_past_deadline)
{
    shoal__signals_install(30);
    shoal__signals_stop_notify(NULL, SIGUSR1, shoal_now() - 1);
    pause_for(5);
}
END_TEST

START_TEST(test_repeat_within_a_second)
{
    shoal__signals_install(30);
    raise(SIGUSR1);
    pause_for(0.3);
    raise(SIGUSR1);
    ck_assert_int_eq(shoal__stop_requested(), SIGUSR1);
    shoal__signals_restore();
}
END_TEST

START_TEST(test_second_signal_exits)
{
    shoal__signals_install(30);
    raise(SIGUSR1);
    pause_for(1.1);
    raise(SIGTERM);
    pause_for(5);
}
END_TEST

/* While a handler runs, the other stop signals and the alarm wait: a second
 * signal arriving in the first one's opening lines (before it noted the
 * time of the first) would otherwise look like a late second signal and
 * stop the run at once. */
START_TEST(test_handlers_mask_their_peers)
{
    static const int all[] = {SIGTERM, SIGINT, SIGUSR1, SIGALRM};
    shoal__signals_install(30);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        struct sigaction sa;
        sigaction(all[i], NULL, &sa);
        for (size_t j = 0; j < sizeof all / sizeof all[0]; j++)
            ck_assert_msg(all[i] == all[j] || sigismember(&sa.sa_mask, all[j]),
                          "signal %d can interrupt the handler of %d", all[j],
                          all[i]);
    }
    shoal__signals_restore();
}
END_TEST

static Suite *signals_suite(void)
{
    Suite *s = suite_create("signals");
    TCase *tc = tcase_create("stop");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_no_stop);
    tcase_add_test(tc, test_own_signal_deadline);
    tcase_add_test(tc, test_notify_stops_and_arms);
    tcase_add_test(tc, test_notify_then_signal_keeps_deadline);
    tcase_add_test(tc, test_signal_then_later_notify);
    tcase_add_test(tc, test_notify_then_signal_is_first);
    tcase_add_exit_test(tc, test_notify_past_deadline, 3);
    tcase_add_test(tc, test_repeat_within_a_second);
    tcase_add_exit_test(tc, test_second_signal_exits, 3);
    tcase_add_test(tc, test_handlers_mask_their_peers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(signals_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
