/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `onmitsu verify`: check a log directory's hash chain, seals, seq
 * continuity and segment order across every segment (docs/INTEGRITY.md).
 */
#ifndef ONMITSU_VERIFY_H
#define ONMITSU_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "log/seal.h"

struct verify_result {
	uint64_t segments, records, seals, seals_checked, problems;
	uint64_t first_seq, last_seq;
	uint64_t gaps; /* START records reporting time with nothing recorded */
	/* records the recorder could not write, declared by the record after
	 * them (unwritten_seqs=): counted loss, not tampering */
	uint64_t unwritten, losses;
	bool running; /* a recorder holds the directory's lock */
	char first_problem[512];
};

/*
 * Check dir; report problems, gaps and a summary to out. key0: the
 * verification key (epoch 0), or NULL to check chains only.
 * Returns 0 when intact, 1 when not, -1 when dir cannot be read (err says).
 */
int log_verify(const char *dir, const uint8_t *key0, FILE *out, struct verify_result *res);

#endif
