/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Process guid: a UUID-formatted id derived from (boot id, pid, start time in
 * clock ticks since boot), so that the same process has the same guid whether
 * seen live or in /proc, and across restarts of the recorder.
 */
#ifndef ONMITSU_GUID_H
#define ONMITSU_GUID_H

#include <stdint.h>

#define GUID_STR_LEN 37 /* 36 + NUL */

/* boot_id: the 16 bytes of /proc/sys/kernel/random/boot_id. */
void guid_format(char out[GUID_STR_LEN], const uint8_t boot_id[16], uint32_t pid,
		 uint64_t start_ticks);

/* Parse "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into 16 bytes; 0 or -1. */
int uuid_parse(const char *s, uint8_t out[16]);

/* Boot-time ns (task start_boottime) to /proc clock ticks. */
static inline uint64_t guid_ticks_from_ns(uint64_t ns)
{
	return ns / (1000000000ull / 100);
}

#endif
