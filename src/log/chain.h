/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hash chain (docs/INTEGRITY.md). Every record line ends in a last
 * column, chain: the lowercase hex SHA-256 of the previous record's chain
 * value (its 64 hex characters) followed by this record's line as written,
 * without the chain field and without the "\n":
 *
 *     chain[i] = hex(SHA-256(chain[i-1] || line[i] minus ",chain\n"))
 *
 * A new log starts from CHAIN_SEED (64 zeros); a restart continues from the
 * last chain value in the log. So editing, deleting, inserting or reordering
 * a record, or splicing segments, changes every later chain value.
 *
 * The value is written on checkpoints only: the first record of every
 * segment, START, STOP, SEAL, the record that declares records the writer
 * lost (unwritten_seqs=), and every CHAIN_CHECKPOINT_EVERY-th record of a
 * segment; the field is empty on the others (JSON Lines: the member is left
 * out). It is still computed over every record, so a checkpoint's value
 * covers every record since the one before: verify names the block of at
 * most CHAIN_CHECKPOINT_EVERY records where the chain breaks. 64 random hex
 * digits cost some 33 bytes a record after compression, more than the rest of
 * a typical record; written once per block they cost next to nothing.
 *
 * Logs written before 0.3 carry a tag (the first CHAIN_TAG_LEN hex digits) on
 * every record that is not a checkpoint, and a checkpoint every 1024 records:
 * they still read and verify (a tag is checked as a prefix).
 */
#ifndef ONMITSU_CHAIN_H
#define ONMITSU_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#define CHAIN_HEX_LEN 64
#define CHAIN_TAG_LEN 16 /* logs before 0.3 only */
#define CHAIN_CHECKPOINT_EVERY 256
/* what verify allows: blocks no longer than the writer makes */
#define CHAIN_BLOCK_MAX CHAIN_CHECKPOINT_EVERY
#define CHAIN_COLUMN "chain"
extern const char CHAIN_SEED[CHAIN_HEX_LEN + 1];

struct chain {
	char head[CHAIN_HEX_LEN + 1];
};

/* head = CHAIN_SEED. */
void chain_init(struct chain *c);
void chain_free(struct chain *c);
/* Continue from a chain value found in a log (64 hex digits, checked). */
int chain_set_head(struct chain *c, const char *hex, size_t len);
/* head = hash(head || body): body is the line without ",chain" and "\n". */
void chain_next(struct chain *c, const void *body, size_t len);
/* Compute without a struct chain (verify, tests): out gets 64 hex + NUL. */
void chain_compute(const char *prev_hex, const void *body, size_t len, char out[CHAIN_HEX_LEN + 1]);
/* 64 lowercase hex digits. */
bool chain_hex_valid(const char *s, size_t len);
/*
 * Split a record line (without "\n") into the hashed body and the chain
 * field: CSV: the last comma (the field may be empty); JSON Lines (ECS,
 * log/jsonl.h): the member ,"chain":"..." that ends the object "onmitsu",
 * the last of the line, or, when the line has none, its closing "}}" (the
 * body is then the line without them, the field empty); in the flat JSON
 * Lines written before 0.3, the member ,"onmitsu.chain":"..."} at the end,
 * or when the line has none, its closing "}". So the body of a record does
 * not depend on whether its value was written. false when the line has no
 * valid chain field.
 */
bool chain_split_line(const char *line, size_t len, bool jsonl, size_t *body_len,
		      const char **field, size_t *field_len);
/* A chain field: empty (not a checkpoint), a full value, or a tag (16
 * lowercase hex digits, logs before 0.3). */
bool chain_field_valid(const char *s, size_t len);
/* Whether a chain field (full or tag) matches the full value; an empty
 * field matches any. */
bool chain_field_matches(const char *full, const char *field, size_t len);

#endif
