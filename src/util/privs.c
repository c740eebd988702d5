/* SPDX-License-Identifier: BSD-2-Clause */
#include "util/privs.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * Set no_new_privs, empty the bounding and ambient sets but for keep (a mask
 * of CAP_* bits), and leave keep alone in the effective and permitted sets
 * (inheritable empty). strict: stop at the first failure with -1; otherwise
 * go on, and when capset refuses keep, keep nothing.
 */
static int limit_capabilities(uint64_t keep, bool strict)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 && strict)
		return -1;
	/* the bounding set first: it needs CAP_SETPCAP, which capset takes away
	 * (numbers above CAP_LAST_CAP are unknown to this kernel and fail) */
	for (int cap = 0; cap <= 63; cap++)
		if (!(keep >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
		    cap <= CAP_LAST_CAP && strict)
			return -1;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2] = {{0, 0, 0}, {0, 0, 0}};
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data) == 0)
		return 0;
	if (strict)
		return -1;
	memset(data, 0, sizeof(data));
	return (int)syscall(SYS_capset, &hdr, data);
}

int drop_all_capabilities(void)
{
	return limit_capabilities(0, true);
}

void thread_keep_capability(int keep)
{
	limit_capabilities(keep >= 0 && keep < 64 ? 1ull << keep : 0, false);
}

void thread_keep_capabilities(uint64_t keep)
{
	limit_capabilities(keep, false);
}
