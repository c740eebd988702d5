/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The recorder's table of live processes, by pid: what a FORK inherits
 * (exe, cmdline) and who the parent was at fork time, which the kernel no
 * longer knows once the parent exits and the child is reparented.
 */
#ifndef ONMITSU_PROCTABLE_H
#define ONMITSU_PROCTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record/guid.h"

struct proc_entry {
	uint32_t pid;
	uint32_t ppid;
	uint64_t start_ticks;
	char guid[GUID_STR_LEN];
	char parent_guid[GUID_STR_LEN]; /* "" when unknown */
	char *exe;
	size_t exe_len;
	bool exe_truncated; /* exe was cut at the path limit (set after set_image) */
	char *args;
	size_t args_len;
	bool args_truncated;
	bool exe_suspicious; /* a memfd, deleted, or in /tmp, /var/tmp, /dev/shm (record/evidence.h)
			      */
	bool evidence_fired; /* an evidence rule fired for it */
	bool used;	     /* slot in use */
};

struct proctable {
	struct proc_entry *slots;
	size_t cap; /* power of two */
	size_t count;
};

void proctable_init(struct proctable *t);
void proctable_free(struct proctable *t);
/* The live entry for pid, or NULL. */
struct proc_entry *proctable_lookup(struct proctable *t, uint32_t pid);
/* Insert or replace the entry for pid; returns it (exe/args empty). */
struct proc_entry *proctable_put(struct proctable *t, uint32_t pid);
void proctable_remove(struct proctable *t, uint32_t pid);
/* Replace exe and args (copies); exe_truncated is cleared. */
void proc_entry_set_image(struct proc_entry *e, const char *exe, size_t exe_len, const char *args,
			  size_t args_len, bool truncated);

#endif
