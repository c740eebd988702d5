/* SPDX-License-Identifier: BSD-2-Clause */
/* Diagnostics to stderr: "onmitsu: ...". log_warn/fatal append strerror(errno);
 * the x variants do not. fatal/fatalx exit with status 1. */
#ifndef ONMITSU_LOG_H
#define ONMITSU_LOG_H

#define LOG_ERROR 0
#define LOG_WARN 1
#define LOG_INFO 2
#define LOG_DEBUG 3

extern int log_verbosity; /* messages above this level are dropped; default LOG_WARN */

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
