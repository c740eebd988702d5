/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The beacon sub-scores (query/beacon.c) against the values RITA v5's own
 * tests give for the same inputs (research notes, forensics.md §2.1), and
 * hand-computed ones.
 */
#include <math.h>

#include "query/beacon.h"
#include "test.h"

#define CHECK_NEAR(a, b)                                                                           \
	do {                                                                                       \
		double a_ = (a), b_ = (b);                                                         \
		if (fabs(a_ - b_) > 1e-9)                                                          \
			TEST_FAIL_("%s == %s failed: %.6f != %.6f", #a, #b, a_, b_);               \
	} while (0)

TEST(beacon_ts_perfect_series)
{
	double t[10];
	for (int i = 0; i < 10; i++)
		t[i] = i + 1;
	struct beacon_ts s;
	CHECK_EQ_INT(beacon_ts_score(t, 10, &s), 0);
	CHECK_NEAR(s.score, 1);
	CHECK_NEAR(s.skew, 0);
	CHECK_NEAR(s.mad, 0);
	CHECK_EQ_INT(s.intervals, 9);
	for (int i = 0; i < 10; i++)
		t[i] = 1517338924.0 + 60 * i;
	CHECK_EQ_INT(beacon_ts_score(t, 10, &s), 0);
	CHECK_NEAR(s.score, 1);
}

TEST(beacon_ts_jitter)
{
	/* intervals 98, 99, 99, 100, 100, 100, 101, 101, 102; given out of order */
	double t[] = {1517339824, 1517338924, 1517339022, 1517339121, 1517339220,
		      1517339320, 1517339420, 1517339520, 1517339621, 1517339722};
	struct beacon_ts s;
	CHECK_EQ_INT(beacon_ts_score(t, 10, &s), 0);
	CHECK_NEAR(s.score, 0.995);
	CHECK_NEAR(s.skew, 0);
	CHECK_NEAR(s.mad, 1);
	CHECK_NEAR(s.median, 100);
}

TEST(beacon_ts_alternating)
{
	/* 98 / 300 alternating: Q1 98, median 199, Q3 300 (no skew), MAD 101 */
	double t[] = {1517338924, 1517339022, 1517339322, 1517339420, 1517339720, 1517339818,
		      1517340118, 1517340216, 1517340516, 1517340614, 1517340914};
	struct beacon_ts s;
	CHECK_EQ_INT(beacon_ts_score(t, 11, &s), 0);
	CHECK_NEAR(s.score, 0.746);
	CHECK_NEAR(s.skew, 0);
	CHECK_NEAR(s.mad, 101);
	CHECK_NEAR(s.median, 199);
}

TEST(beacon_ts_irregular)
{
	double t[] = {1517338924, 1517338925, 1517339224, 1517339249, 1517344224,
		      1517344314, 1517344316, 1517344358, 1517344858, 1517346358};
	struct beacon_ts s;
	CHECK_EQ_INT(beacon_ts_score(t, 10, &s), 0);
	CHECK_NEAR(s.score, 0.083);
	CHECK_NEAR(beacon_round3(s.skew), 0.845);
	CHECK_NEAR(s.mad, 89);
}

TEST(beacon_ts_too_few)
{
	double t[9];
	for (int i = 0; i < 9; i++)
		t[i] = 60;
	struct beacon_ts s;
	CHECK_EQ_INT(beacon_ts_score(t, 9, &s), -1); /* only zero intervals */
	CHECK_EQ_INT(beacon_ts_score(t, 2, &s), -1);
	CHECK_EQ_INT(beacon_ts_score(t, 0, &s), -1);
	double u[] = {1, 2, 2, 3}; /* four times, two non-zero intervals */
	CHECK_EQ_INT(beacon_ts_score(u, 4, &s), -1);
}

TEST(beacon_ts_subsecond_jitter)
{
	/* 1 s +-25 % (dyadic, so exact): intervals 0.75 .. 1.25 s, median 1 s: no
	 * skew (spread < 10 s), MAD 0.125 -> (1 - 0.125) / 1 = 0.875; score
	 * (1 + 0.875) / 2 = 0.9375, rounded half away from zero */
	double t[] = {0, 0.75, 2.0, 2.875, 4.0, 5.0, 6.0, 6.875, 8.0, 9.0};
	struct beacon_ts s;
	CHECK_EQ_INT(beacon_ts_score(t, 10, &s), 0);
	CHECK_NEAR(s.median, 1.0);
	CHECK_NEAR(s.mad, 0.125);
	CHECK_NEAR(s.score, 0.938);
}

TEST(beacon_cv_vectors)
{
	double a[] = {950, 970, 990, 1010, 1030, 1050, 1070};
	CHECK_NEAR(beacon_cv_score(a, 7), 0.96);
	double b[] = {1, 5, 10, 50, 100, 500, 1000, 5000, 10000};
	CHECK_NEAR(beacon_cv_score(b, 9), 0);
	double z[] = {0, 0, 0};
	CHECK_NEAR(beacon_cv_score(z, 3), 0);
}

TEST(beacon_combine_vectors)
{
	double s1[] = {0.8, 0.7, 0.6, 0.5}, w1[] = {0.2, 0.2, 0.3, 0.3};
	CHECK_NEAR(beacon_combine(s1, w1, 4), 0.63);
	double s2[] = {0.1, 0.2, 0.3, 0.4}, w2[] = {0.25, 0.25, 0.25, 0.25};
	CHECK_NEAR(beacon_combine(s2, w2, 4), 0.25);
}

TEST(beacon_duration_vectors)
{
	/* a day's window, connections over all of it, 24 bins used, run 24 */
	CHECK_NEAR(beacon_duration_score(0, 86400, 0, 86400, 24, 24), 1);
	/* the last 12 h only, 6 bins, no run counted: coverage 0.5 */
	CHECK_NEAR(beacon_duration_score(43200, 86400, 0, 86400, 6, 0), 0.5);
	/* fewer than 6 bins: no duration score */
	CHECK_NEAR(beacon_duration_score(0, 86400, 0, 86400, 5, 5), 0);
	/* a run of 6 bins over a quarter of the window: consistency 0.5 */
	CHECK_NEAR(beacon_duration_score(0, 21600, 0, 86400, 6, 6), 0.5);
}

TEST(beacon_histogram_shapes)
{
	/* one connection an hour for a day: every bin 1, CV 0 */
	double t[24];
	for (int i = 0; i < 24; i++)
		t[i] = 3600.0 * i + 10;
	struct beacon_hist h;
	beacon_histogram(t, 24, 0, 86400, &h);
	CHECK_NEAR(h.cv_score, 1);
	CHECK_NEAR(h.bimodal, 1);
	CHECK_NEAR(h.score, 1);
	CHECK_EQ_INT(h.bins_used, 24);
	CHECK_EQ_INT(h.longest_run, 24);
	/* a burst in one hour: CV > 1, too few bins for the bimodal fit */
	double b[6] = {100, 101, 102, 103, 104, 105};
	beacon_histogram(b, 6, 0, 86400, &h);
	CHECK_NEAR(h.score, 0);
	CHECK_EQ_INT(h.bins_used, 1);
	CHECK_EQ_INT(h.longest_run, 1);
	/* 12 bins of 2 and 12 of 1 alternating: CV 1/3, two count classes cover
	 * all 24 used bins -> bimodal 24/23, capped at 1 */
	double c[36];
	int n = 0;
	for (int i = 0; i < 24; i++) {
		c[n++] = 3600.0 * i + 10;
		if (i % 2 == 0)
			c[n++] = 3600.0 * i + 20;
	}
	beacon_histogram(c, (size_t)n, 0, 86400, &h);
	CHECK_NEAR(h.cv_score, 0.667);
	CHECK_NEAR(h.bimodal, 1);
	/* a run that wraps around the end of the window: bins 20..23 and 0..1 */
	double w[] = {3600.0 * 20 + 1, 3600.0 * 21 + 1, 3600.0 * 22 + 1, 3600.0 * 23 + 1, 1,
		      3600.0 + 1};
	beacon_histogram(w, 6, 0, 86400, &h);
	CHECK_EQ_INT(h.longest_run, 6);
}
