/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Clocks read as one integer, and the calendar arithmetic that time parsing
 * needs without TZ or timegm.
 */
#ifndef ONMITSU_UTIL_TIME_H
#define ONMITSU_UTIL_TIME_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds of the given clock (CLOCK_BOOTTIME, CLOCK_REALTIME, ...). */
uint64_t clock_ns(clockid_t clock);
/* Wall-clock now, in Unix ns (CLOCK_REALTIME): what records are stamped with. */
uint64_t now_unix_ns(void);
/* CLOCK_MONOTONIC in ms: for intervals and timeouts, which must not follow
 * the wall clock when it is set. */
uint64_t now_mono_ms(void);

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil); m 1..12, d 1..31. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
/* Days in month m (1..12) of year y, Gregorian leap years. */
unsigned days_in_month(unsigned y, unsigned m);

#endif
