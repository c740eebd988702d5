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
	uint64_t gaps;	 /* START records reporting time with nothing recorded */
	uint64_t strays; /* files named like segments that are not part of the log */
	/* records the recorder could not write, declared by the record after
	 * them (unwritten_seqs=): counted loss, not tampering */
	uint64_t unwritten, losses;
	bool running;		   /* a recorder holds the directory's lock */
	uint64_t evidence_checked; /* EVIDENCE directories whose files match their manifest */
	char first_problem[512];
};

struct verify_opts {
	const uint8_t *key0; /* the verification key (epoch 0), or NULL: chains only */
	/* --seal-key: the epoch of the host's sealing key file, read before the
	 * log. The key evolves right after each seal and is stored before the
	 * SEAL is written, so after a clean stop it is the last seal's epoch + 1
	 * (before a run's first seal, its START's seal_epoch); while a recorder
	 * runs, one seal more may be computed and not yet written. An older
	 * last seal means seals were cut off the log. */
	bool have_key_epoch;
	uint64_t key_epoch;
	/* --min-epoch: a seal of this epoch was seen off the host (the syslog
	 * stream carries every SEAL); the log's last seal may not be older */
	bool have_min_epoch;
	uint64_t min_epoch;
};

/*
 * Check dir; report problems, gaps and a summary to out.
 * Returns 0 when intact, 1 when not, -1 when dir cannot be read (err says).
 */
int log_verify_opts(const char *dir, const struct verify_opts *o, FILE *out,
		    struct verify_result *res);
/* log_verify_opts with the verification key key0 (or NULL) only. */
int log_verify(const char *dir, const uint8_t *key0, FILE *out, struct verify_result *res);

#endif
