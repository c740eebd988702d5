/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Beacon scoring: how regular a series of connection times is, re-implemented
 * from the formulas of RITA v5 (activecm/rita, analysis/beacons.go; written
 * down in the project's research notes, no code taken). Every sub-score lies
 * in [0, 1]; 1 is a perfectly regular beacon.
 *
 * - Timestamp score: the intervals between successive times (sorted, zero
 *   intervals dropped) scored by their Bowley skewness (1 - |skew|; skew is 0
 *   unless Q3 - Q1 >= BEACON_MIN_IQR and the median differs from both
 *   quartiles) and their median absolute deviation ((median - MAD) / median,
 *   1 when the median is below 1 s); the mean of both.
 * - Histogram score: the connections counted in 24 equal bins over the
 *   window; 1 - the coefficient of variation of the counts (0 past CV 1), or
 *   the bimodal fit when at least 11 bins are used (bins of similar counts:
 *   the two commonest count classes over the used bins less one).
 * - Duration score: with at least 6 bins used, how much of the window the
 *   connections span, or the longest run of used bins (around the end of
 *   the window too) over 12 bins, whichever is larger.
 * - The beacon score: their weighted mean. RITA also scores the sizes of the
 *   transfers; onmitsu's NET records have no byte counts, so the hunt weighs
 *   the three others 1/3 each (docs/QUERY.md, "hunt").
 * Scores are rounded to three decimals as RITA rounds them.
 */
#ifndef ONMITSU_QUERY_BEACON_H
#define ONMITSU_QUERY_BEACON_H

#include <stddef.h>

#define BEACON_BINS 24
#define BEACON_MIN_IQR 10.0	      /* seconds: a smaller spread has no skew */
#define BEACON_BIMODAL_MIN_BINS 11    /* histogram_bimodal_min_hours_seen */
#define BEACON_BIMODAL_OUTLIERS 1     /* histogram_bimodal_outlier_removal */
#define BEACON_MODE_SENSITIVITY 0.05  /* histogram_mode_sensitivity */
#define BEACON_DURATION_MIN_BINS 6    /* duration_min_hours_seen */
#define BEACON_DURATION_IDEAL_BINS 12 /* duration_consistency_ideal_hours_seen */
#define BEACON_MIN_TIMES 4	      /* unique_connection_threshold */

struct beacon_ts {
	double score; /* (skew score + MAD score) / 2, rounded */
	double skew;  /* Bowley skewness of the intervals */
	double mad;   /* median absolute deviation of the intervals */
	double median;
	size_t intervals; /* non-zero intervals scored */
};

struct beacon_hist {
	double score; /* max(cv_score, bimodal) */
	double cv_score;
	double bimodal;
	int bins_used;	 /* bins with at least one connection */
	int longest_run; /* of used bins, wrapping around */
};

/*
 * The timestamp score of n times (seconds, any order; the array is not
 * changed). Returns -1 with fewer than 4 times or fewer than 3 non-zero
 * intervals (no score), else 0.
 */
int beacon_ts_score(const double *times, size_t n, struct beacon_ts *out);

/* 1 - CV of the counts, rounded; 0 when CV > 1 or the mean is 0. */
double beacon_cv_score(const double *counts, size_t n);

/* The histogram of n times over [wmin, wmax] (times outside are ignored). */
void beacon_histogram(const double *times, size_t n, double wmin, double wmax,
		      struct beacon_hist *out);

/* The duration score: first/last connection, the window, and the histogram's
 * used bins and longest run. */
double beacon_duration_score(double first, double last, double wmin, double wmax, int bins_used,
			     int longest_run);

/* sum(scores[i] * weights[i]), rounded. */
double beacon_combine(const double *scores, const double *weights, size_t n);

/* x rounded to three decimals, halves away from zero (RITA's rounding). */
double beacon_round3(double x);

#endif
