/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The CSV log reader (query/reader.c): the input is the active segment
 * onmitsu.csv of a log directory, read as `who`, `tree` and the others
 * read it: once on the caller's thread keeping every record, once with an
 * event filter and the raw lines kept (the path that peeks at the event
 * before splitting), and, for short inputs, once on the reading thread.
 * Every record handed out must hold what the reader promises. The records of
 * the first pass also go through `who --follow`'s live process table
 * (query/live.h), each NET record told with its process and ancestry.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "query/live.h"
#include "query/reader.h"

static void check_record(const struct log_record *rec, bool keep_raw)
{
	FUZZ_CHECK(rec->nfields > 0 && rec->nfields <= LOG_MAX_FIELDS, "nfields %d", rec->nfields);
	FUZZ_CHECK(rec->event >= -1 && rec->event < OM_EVENT_COUNT, "event %d", rec->event);
	for (int c = 0; c < COL_COUNT; c++) {
		FUZZ_CHECK(rec->f[c] != NULL, "column %d", c);
		FUZZ_CHECK(strlen(rec->f[c]) == rec->len[c], "column %s: length %u for \"%s\"",
			   log_col_names[c], rec->len[c], rec->f[c]);
	}
	for (int i = 0; i < rec->nfields; i++)
		FUZZ_CHECK(rec->fields[i] && rec->names[i], "field %d", i);
	if (keep_raw) {
		/* rec->raw is raw_len bytes (a C string only from the reading thread) */
		FUZZ_CHECK(rec->raw != NULL && rec->raw_len > 0, "raw line");
		FUZZ_CHECK(!memchr(rec->raw, '\n', rec->raw_len), "a raw line holds a newline");
	}
	/* the numeric columns were checked: empty, or up to 19 digits */
	static const enum log_col num[] = {COL_SEQ, COL_PID,	  COL_PPID,
					   COL_UID, COL_SRC_PORT, COL_DST_PORT};
	for (size_t k = 0; k < sizeof(num) / sizeof(num[0]); k++) {
		const char *v = rec->f[num[k]];
		FUZZ_CHECK(rec->len[num[k]] <= 19 && strspn(v, "0123456789") == rec->len[num[k]],
			   "column %s: \"%s\" passed as a number", log_col_names[num[k]], v);
	}
}

static void live_one(struct live *lv, const struct log_record *rec)
{
	if (rec->event < 0)
		return;
	live_add(lv, rec);
	FUZZ_CHECK(live_count(lv) <= LIVE_MAX_PROCS + 1, "the live table holds %u", live_count(lv));
	if (rec->event != OM_EVENT_NET)
		return;
	struct history h;
	struct dns_hit dns;
	int32_t p = live_history(lv, rec->f[COL_GUID], rec->len[COL_GUID], rec->f[COL_DST_IP], true,
				 &h, &dns);
	FUZZ_CHECK(p == PROC_NONE || (uint32_t)p < h.nprocs, "process %d of %u", p, h.nprocs);
	int32_t chain[HISTORY_MAX_DEPTH];
	FUZZ_CHECK(history_ancestry(&h, p, chain, HISTORY_MAX_DEPTH) < (int)h.nprocs + 1,
		   "an ancestry longer than the processes");
	history_free(&h);
}

static uint64_t read_all(const char *dir, const struct log_reader_opts *o, struct live *lv)
{
	char err[512];
	struct log_reader *r = log_reader_open(dir, o, err, sizeof(err));
	FUZZ_CHECK(r != NULL, "%s", err);
	struct log_record rec;
	uint64_t n = 0;
	while (log_reader_next(r, &rec) == 1) {
		check_record(&rec, o->keep_raw);
		if (lv)
			live_one(lv, &rec);
		if (o->events)
			FUZZ_CHECK(rec.event >= 0 && (o->events & LOG_EVENT_BIT(rec.event)),
				   "an unwanted event %d", rec.event);
		n++;
	}
	FUZZ_CHECK(n == log_reader_records(r), "%llu records, counted %llu", (unsigned long long)n,
		   (unsigned long long)log_reader_records(r));
	(void)log_reader_header(r);
	log_reader_close(r);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	const char *dir = fuzz_dir_fresh();
	fuzz_write_file(dir, "onmitsu.csv", data, size);

	struct log_reader_opts all = {.quiet = true, .single_thread = true};
	struct live lv;
	live_init(&lv);
	uint64_t n_all = read_all(dir, &all, &lv);
	live_free(&lv);

	struct log_reader_opts some = {.events = LOG_EVENT_BIT(OM_EVENT_NET) |
						 LOG_EVENT_BIT(OM_EVENT_EXEC),
				       .keep_raw = true,
				       .quiet = true,
				       .single_thread = true};
	uint64_t n_some = read_all(dir, &some, NULL);
	FUZZ_CHECK(n_some <= n_all, "a filter let through more records (%llu > %llu)",
		   (unsigned long long)n_some, (unsigned long long)n_all);

	/* the reading thread hands over the same stream; it sets up some 15 MB
	 * of batches, so only for one input in 16 (by a hash of its bytes, so a
	 * rerun of the input takes the same path) */
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	if ((h & 15) == 0) {
		struct log_reader_opts threaded = {.quiet = true, .keep_raw = true};
		uint64_t n_thr = read_all(dir, &threaded, NULL);
		FUZZ_CHECK(n_thr == n_all, "threaded read %llu records, single %llu",
			   (unsigned long long)n_thr, (unsigned long long)n_all);
	}
	return 0;
}
