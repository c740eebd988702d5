/* SPDX-License-Identifier: BSD-2-Clause */
/* The kernel's filter tables and per-process attributes (loader_filter.c). */
#ifndef ONMITSU_LOADER_FILTER_H
#define ONMITSU_LOADER_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onmitsu/filter.h"
#include "record/filter.h"
#include "record/loader.h"

/* Write t into the generation not in use and switch to it (on: any rule at
 * all). *gen: the generation now in use. 0, or -1 with err (nothing
 * switched). */
int filter_kernel_apply(struct loader *l, const struct filter_tables *t, bool on, unsigned *gen,
			char *err, size_t errsize);
/* The events the kernel dropped in generation gen, by rule (and
 * OM_FILTER_NOT_INCLUDED); zero: reset them. 0 or -1. */
int filter_kernel_hits(struct loader *l, unsigned gen, uint64_t out[OM_FILTER_HIT_SLOTS],
		       bool zero);
/* The kernel's attributes of a process: 0, or -1 when it has none. */
int filter_kernel_attrs(struct loader *l, uint32_t tgid, struct om_proc_attrs *a);
/* Attributes of a process that ran before the recorder (from /proc). */
void filter_kernel_seed(struct loader *l, uint32_t tgid, const struct om_proc_attrs *a);

#endif
