/* SPDX-License-Identifier: BSD-2-Clause */
#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/escape.h"
#include "util/strbuf.h"

int log_verbosity = LOG_WARN;

__attribute__((format(printf, 3, 0))) static void vlog(int level, int with_errno, const char *fmt,
						       va_list ap)
{
	int saved = errno;
	if (level > log_verbosity)
		return;
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* messages name files and values from outside (a segment's name, a
	 * log's field): nothing a terminal acts on reaches stderr raw */
	struct strbuf shown = STRBUF_INIT;
	const char *text = msg;
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p < 0x20 || *p >= 0x7f) {
			/* a message is one line: its newlines are escaped too */
			const char *s = msg, *nl;
			while ((nl = strchr(s, '\n'))) {
				escape_display(&shown, s, (size_t)(nl - s));
				sb_adds(&shown, "\\x0a");
				s = nl + 1;
			}
			escape_display(&shown, s, strlen(s));
			text = sb_str(&shown);
			break;
		}
	}
	if (with_errno)
		fprintf(stderr, "onmitsu: %s: %s\n", text, strerror(saved));
	else
		fprintf(stderr, "onmitsu: %s\n", text);
	sb_free(&shown);
	errno = saved;
}

#define DEFINE_LOG(name, level, with_errno)                                                        \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		vlog(level, with_errno, fmt, ap);                                                  \
		va_end(ap);                                                                        \
	}

DEFINE_LOG(log_warn, LOG_WARN, 1)
DEFINE_LOG(log_warnx, LOG_WARN, 0)
DEFINE_LOG(log_info, LOG_INFO, 0)
DEFINE_LOG(log_debug, LOG_DEBUG, 0)

void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_ERROR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
