/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The JSON Lines reader: the input is the active segment onmitsu.jsonl of a
 * log directory, read by the query reader (query/reader.c, each line through
 * jsonl_decode and rebuilt as its CSV line) and by `cat` (log/convert.c,
 * both formats out). Each line is also decoded on its own: a line that
 * decodes must encode (jsonl_encode_fields) to a line that decodes to the
 * same fields and host, as the format's lossless conversion promises
 * (ECS, whether the input was ECS or the flat JSON Lines of before 0.3).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "log/convert.h"
#include "log/csv.h"
#include "log/jsonl.h"
#include "log/schema.h"
#include "query/reader.h"

static struct jsonl_store store1, store2;
static struct strbuf line2;

static void check_line(const char *line, size_t len)
{
	const char *f1[COL_COUNT + 1], *f2[COL_COUNT + 1];
	struct jsonl_host h1, h2;
	if (jsonl_decode(line, len, &store1, f1, &h1) < 0)
		return;
	const size_t n = COL_COUNT + 1; /* the columns, then chain */
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(f1[i] != NULL, "field %zu", i);
	sb_reset(&line2);
	jsonl_encode_fields(&line2, f1, &h1, f1[COL_COUNT]);
	FUZZ_CHECK(line2.len > 0 && line2.data[line2.len - 1] == '\n', "no line end");
	FUZZ_CHECK(!memchr(line2.data, '\n', line2.len - 1), "a newline inside \"%s\"", line2.data);
	FUZZ_CHECK(jsonl_decode(line2.data, line2.len - 1, &store2, f2, &h2) == JSONL_ECS,
		   "the encoded line does not decode: %s", line2.data);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(strcmp(f1[i], f2[i]) == 0, "%s: \"%s\" came back as \"%s\"",
			   i < COL_COUNT ? log_columns[i].name : "chain", f1[i], f2[i]);
	FUZZ_CHECK(strcmp(h1.name, h2.name) == 0, "host.name");
	FUZZ_CHECK(strcmp(h1.id, h2.id) == 0, "host.id");
	FUZZ_CHECK(strcmp(h1.boot_id, h2.boot_id) == 0, "host.boot.id");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	const char *text = (const char *)data;
	for (size_t off = 0; off < size;) {
		const char *nl = memchr(text + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (text + off)) : size - off;
		check_line(text + off, len);
		off += len + 1;
	}

	const char *dir = fuzz_dir_fresh();
	fuzz_write_file(dir, "onmitsu.jsonl", data, size);
	char err[512];
	struct log_reader_opts o = {.quiet = true, .single_thread = true, .keep_raw = true};
	struct log_reader *r = log_reader_open(dir, &o, err, sizeof(err));
	FUZZ_CHECK(r != NULL, "%s", err);
	struct log_record rec;
	uint64_t n = 0;
	while (log_reader_next(r, &rec) == 1) {
		for (int c = 0; c < COL_COUNT; c++)
			FUZZ_CHECK(strlen(rec.f[c]) == rec.len[c], "column %s", log_col_names[c]);
		FUZZ_CHECK(!memchr(rec.raw, '\n', rec.raw_len), "a newline in a record");
		n++;
	}
	FUZZ_CHECK(n == log_reader_records(r), "record count");
	log_reader_close(r);

	/* `cat`: both formats, to nowhere (its warnings go to stderr, quieted) */
	FILE *null = fopen("/dev/null", "w");
	FUZZ_CHECK(null != NULL, "/dev/null");
	(void)log_cat(dir, LOG_FORMAT_CSV, null);
	(void)log_cat(dir, LOG_FORMAT_JSONL, null);
	fclose(null);
	return 0;
}
