/* SPDX-License-Identifier: BSD-2-Clause */
#include "query/beacon.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

double beacon_round3(double x)
{
	return round(x * 1000.0) / 1000.0;
}

static double ceil3(double x)
{
	return ceil(x * 1000.0) / 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* the median of sorted v[0..n) (n > 0): the mean of the middle two for even n */
static double median_sorted(const double *v, size_t n)
{
	if (n % 2)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/*
 * Quartiles of sorted v[0..n) (n >= 2): Q1 the median of the lower half, Q3
 * of the upper half, the middle value of an odd count in neither.
 */
static void quartiles(const double *v, size_t n, double *q1, double *q2, double *q3)
{
	size_t half = n / 2;
	*q2 = median_sorted(v, n);
	*q1 = median_sorted(v, half);
	*q3 = median_sorted(v + (n - half), half);
}

int beacon_ts_score(const double *times, size_t n, struct beacon_ts *out)
{
	memset(out, 0, sizeof(*out));
	if (n < BEACON_MIN_TIMES)
		return -1;
	double *t = malloc(n * sizeof(*t));
	double *iv = malloc(n * sizeof(*iv));
	if (!t || !iv)
		fatal("out of memory");
	memcpy(t, times, n * sizeof(*t));
	qsort(t, n, sizeof(*t), cmp_double);
	size_t m = 0;
	for (size_t i = 1; i < n; i++)
		if (t[i] - t[i - 1] > 0)
			iv[m++] = t[i] - t[i - 1];
	int rc = -1;
	if (m >= 3) {
		qsort(iv, m, sizeof(*iv), cmp_double);
		double q1, q2, q3;
		quartiles(iv, m, &q1, &q2, &q3);
		double skew = 0;
		if (q3 - q1 >= BEACON_MIN_IQR && q2 != q1 && q2 != q3)
			skew = (q1 + q3 - 2 * q2) / (q3 - q1);
		/* deviations from the median, reusing t */
		for (size_t i = 0; i < m; i++)
			t[i] = fabs(iv[i] - q2);
		qsort(t, m, sizeof(*t), cmp_double);
		double mad = median_sorted(t, m);
		double mad_score = 1;
		if (q2 >= 1) {
			mad_score = (q2 - mad) / q2;
			if (!(mad_score > 0))
				mad_score = 0;
		}
		out->skew = skew;
		out->mad = mad;
		out->median = q2;
		out->intervals = m;
		out->score = beacon_round3(((1 - fabs(skew)) + mad_score) / 2);
		rc = 0;
	}
	free(t);
	free(iv);
	return rc;
}

double beacon_cv_score(const double *counts, size_t n)
{
	if (!n)
		return 0;
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += counts[i];
	double mean = sum / (double)n;
	if (mean <= 0)
		return 0;
	double var = 0;
	for (size_t i = 0; i < n; i++)
		var += (counts[i] - mean) * (counts[i] - mean);
	double cv = sqrt(var / (double)n) / mean;
	if (cv > 1)
		return 0;
	return beacon_round3(1 - cv);
}

void beacon_histogram(const double *times, size_t n, double wmin, double wmax,
		      struct beacon_hist *out)
{
	memset(out, 0, sizeof(*out));
	double bins[BEACON_BINS] = {0};
	double span = wmax - wmin;
	for (size_t i = 0; i < n; i++) {
		if (times[i] < wmin || times[i] > wmax)
			continue;
		int b = span > 0 ? (int)((times[i] - wmin) / span * BEACON_BINS) : 0;
		if (b >= BEACON_BINS)
			b = BEACON_BINS - 1;
		bins[b]++;
	}
	out->cv_score = beacon_cv_score(bins, BEACON_BINS);

	double max_bar = 0;
	for (int i = 0; i < BEACON_BINS; i++) {
		if (bins[i] > 0)
			out->bins_used++;
		if (bins[i] > max_bar)
			max_bar = bins[i];
	}
	/* the longest run of used bins, wrapping around the end */
	int run = 0;
	for (int i = 0; i < 2 * BEACON_BINS; i++) {
		run = bins[i % BEACON_BINS] > 0 ? run + 1 : 0;
		if (run > out->longest_run)
			out->longest_run = run;
	}
	if (out->longest_run > BEACON_BINS)
		out->longest_run = BEACON_BINS;

	if (out->bins_used >= BEACON_BIMODAL_MIN_BINS) {
		/* used bins grouped by count, in classes of binsize */
		double binsize = ceil(max_bar * BEACON_MODE_SENSITIVITY);
		if (binsize < 1)
			binsize = 1;
		double cls[BEACON_BINS];
		int ncls[BEACON_BINS], k = 0;
		for (int i = 0; i < BEACON_BINS; i++) {
			if (bins[i] <= 0)
				continue;
			double c = floor(bins[i] / binsize) * binsize;
			int j = 0;
			while (j < k && cls[j] != c)
				j++;
			if (j == k) {
				cls[k] = c;
				ncls[k++] = 0;
			}
			ncls[j]++;
		}
		int first = 0, second = 0;
		for (int j = 0; j < k; j++) {
			if (ncls[j] > first) {
				second = first;
				first = ncls[j];
			} else if (ncls[j] > second) {
				second = ncls[j];
			}
		}
		int denom = out->bins_used - BEACON_BIMODAL_OUTLIERS;
		if (denom < 1)
			denom = 1;
		double bimodal = (double)(first + second) / denom;
		out->bimodal = beacon_round3(bimodal > 1 ? 1 : bimodal);
	}
	out->score = out->cv_score > out->bimodal ? out->cv_score : out->bimodal;
}

double beacon_duration_score(double first, double last, double wmin, double wmax, int bins_used,
			     int longest_run)
{
	if (bins_used < BEACON_DURATION_MIN_BINS)
		return 0;
	double coverage = wmax > wmin ? ceil3((last - first) / (wmax - wmin)) : 1;
	double consistency = ceil3((double)longest_run / BEACON_DURATION_IDEAL_BINS);
	if (coverage > 1)
		coverage = 1;
	if (consistency > 1)
		consistency = 1;
	return coverage > consistency ? coverage : consistency;
}

double beacon_combine(const double *scores, const double *weights, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += scores[i] * weights[i];
	return beacon_round3(s);
}
