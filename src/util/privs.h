/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Giving up capabilities. They are per thread: the recorder drops its own
 * once it no longer needs them, and each thread the log writer starts drops
 * what it does not need as it begins.
 */
#ifndef ONMITSU_PRIVS_H
#define ONMITSU_PRIVS_H

#include <stdint.h>

/*
 * Give up every capability (effective, permitted, inheritable, ambient and
 * the bounding set) and set no_new_privs. The recorder calls it once its
 * hooks are attached and the /proc snapshot is taken: what remains (reading
 * the ring buffer, formatting, writing the log it already opened) needs no
 * privilege, so a bug in that code cannot be turned into root's powers.
 * 0, or -1 with errno.
 */
int drop_all_capabilities(void);

/*
 * In the calling thread only: drop every capability but keep (a CAP_*
 * number below 32, or -1 for none) and set no_new_privs. Best effort: where
 * keep cannot be kept (not root, as in the unit tests) nothing is kept.
 */
void thread_keep_capability(int keep);

/* The same, keeping each capability whose bit (1 << CAP_*) is set in keep. */
void thread_keep_capabilities(uint64_t keep);

#endif
