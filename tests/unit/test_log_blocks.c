/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The chain written on checkpoints only (docs/INTEGRITY.md, 0.3): a full value
 * on the first record of a segment, START, STOP, SEAL and every 256th record
 * of a segment, an empty field on the others. verify names the block (the
 * records since the checkpoint before) where the chain breaks. Logs written
 * by the writer before 0.3 (tests/data/chain-v1: a tag on every record, a
 * full value every 1024th) still read and verify.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/chain.h"
#include "log/jsonl.h"
#include "log/seal.h"
#include "log/segment.h"
#include "log/verify.h"
#include "log/writer.h"
#include "log_fixture.h"
#include "test.h"
#include "util/strbuf.h"

#define LINES_MAX 4096

/* The lines of path, NUL-terminated in sb; returns how many. */
static size_t lines_in(const char *path, struct strbuf *sb, char **lines, size_t max)
{
	if (lf_read(path, sb) != 0)
		return 0;
	size_t n = 0;
	for (char *p = sb->data; p && *p && n < max;) {
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		lines[n++] = p;
		p = nl + 1;
	}
	return n;
}

static int lines_out(const char *path, char **lines, size_t n)
{
	struct strbuf out = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		sb_adds(&out, lines[i]);
		sb_addc(&out, '\n');
	}
	int rc = lf_write(path, out.data ? out.data : "", out.len);
	sb_free(&out);
	return rc;
}

/* The chain field of a CSV line (after its last comma). */
static const char *field_of(const char *line)
{
	const char *c = strrchr(line, ',');
	return c ? c + 1 : "";
}

/*
 * A log of START, 600 EXEC, STOP (seq 0..601 on lines 2..603, lines[seq + 1]): checkpoints at
 * seq 0, 256, 512 and 601. how changes its active segment; the verify result
 * and report come back.
 */
enum blk_tamper {
	BT_NONE,
	BT_EDIT_300,	  /* a byte of seq 300 */
	BT_EDIT_256,	  /* a byte of the checkpoint seq 256 (not its value) */
	BT_VALUE_256,	  /* one digit of seq 256's chain value */
	BT_DELETE_300,	  /* seq 300 removed */
	BT_INSERT_300,	  /* a copy of seq 100 after seq 300 */
	BT_INSERT_CP_300, /* a copy of the checkpoint seq 256 after seq 300 */
	BT_TRUNCATE_400,  /* the log cut after seq 400 */
	BT_STRIP_256,	  /* seq 256's value removed */
	BT_STRIP_STOP,	  /* STOP's value removed */
};

static int blocks_tampered(enum blk_tamper how, struct verify_result *res, char **report)
{
	char *dir = lf_tmpdir();
	if (!dir || lf_run(dir, LF_T0, 0, 600, 0, NULL, false) != 0)
		return -1;
	char p[4096];
	snprintf(p, sizeof(p), "%s/onmitsu.csv", dir);
	struct strbuf sb = STRBUF_INIT;
	static char *lines[LINES_MAX];
	size_t n = lines_in(p, &sb, lines, LINES_MAX);
	if (n != 603)
		return -1;
	char copy[4096];
	switch (how) {
	case BT_NONE:
		break;
	case BT_EDIT_300:
		*strstr(lines[301], "prog299") = 'P';
		break;
	case BT_EDIT_256:
		*strstr(lines[257], "prog255") = 'P';
		break;
	case BT_VALUE_256: {
		char *v = (char *)field_of(lines[257]);
		v[10] = v[10] == 'a' ? 'b' : 'a';
		break;
	}
	case BT_DELETE_300:
		memmove(&lines[301], &lines[302], (n - 302) * sizeof(lines[0]));
		n--;
		break;
	case BT_INSERT_300:
	case BT_INSERT_CP_300:
		snprintf(copy, sizeof(copy), "%s", lines[how == BT_INSERT_300 ? 101 : 257]);
		memmove(&lines[303], &lines[302], (n - 302) * sizeof(lines[0]));
		lines[302] = copy;
		n++;
		break;
	case BT_TRUNCATE_400:
		n = 402;
		break;
	case BT_STRIP_256:
		*(char *)field_of(lines[257]) = '\0';
		break;
	case BT_STRIP_STOP:
		*(char *)field_of(lines[602]) = '\0';
		break;
	}
	lines_out(p, lines, n);
	int rc = lf_verify(dir, NULL, res, report);
	sb_free(&sb);
	lf_rm_rf(dir);
	free(dir);
	return rc;
}

TEST(blocks_written_on_checkpoints_only)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	CHECK_EQ_INT(lf_run(dir, LF_T0, 0, 600, 0, NULL, false), 0);
	char p[4096];
	snprintf(p, sizeof(p), "%s/onmitsu.csv", dir);
	struct strbuf sb = STRBUF_INIT;
	static char *lines[LINES_MAX];
	size_t n = lines_in(p, &sb, lines, LINES_MAX);
	CHECK_EQ_INT(n, 603);
	CHECK(strstr(lines[0], ",chain") != NULL); /* the column stays */
	/* the value is computed over every record, written on checkpoints */
	char prev[CHAIN_HEX_LEN + 1];
	memcpy(prev, CHAIN_SEED, sizeof(prev));
	for (size_t i = 1; i < n; i++) {
		uint64_t seq = i - 1;
		const char *f = field_of(lines[i]);
		char v[CHAIN_HEX_LEN + 1];
		chain_compute(prev, lines[i], (size_t)(f - 1 - lines[i]), v);
		bool cp = seq == 0 || seq == 256 || seq == 512 || seq == 601;
		if (strlen(f) != (cp ? CHAIN_HEX_LEN : 0))
			TEST_FAIL_("seq %" PRIu64 ": chain field \"%s\"", seq, f);
		if (cp)
			CHECK_EQ_STR(f, v);
		memcpy(prev, v, sizeof(prev));
	}
	struct verify_result res;
	CHECK_EQ_INT(lf_verify(dir, NULL, &res, NULL), 0);
	CHECK_EQ_INT(res.records, 602);
	sb_free(&sb);
	lf_rm_rf(dir);
	free(dir);
}

TEST(blocks_edit_names_the_block)
{
	struct verify_result res;
	char *report;
	CHECK_EQ_INT(blocks_tampered(BT_EDIT_300, &res, &report), 1);
	if (!strstr(res.first_problem, "onmitsu.csv:259..514 (records seq 257..512): edited"))
		TEST_FAIL_("unexpected: %s", report);
	/* the next block links from the stored value: one problem */
	CHECK_EQ_INT(res.problems, 1);
	free(report);
	/* the checkpoint's own content belongs to the block it closes */
	CHECK_EQ_INT(blocks_tampered(BT_EDIT_256, &res, &report), 1);
	if (!strstr(res.first_problem, "onmitsu.csv:3..258 (records seq 1..256): edited"))
		TEST_FAIL_("unexpected: %s", report);
	CHECK_EQ_INT(res.problems, 1);
	free(report);
}

TEST(blocks_checkpoint_value_edited_is_one_problem)
{
	struct verify_result res;
	char *report;
	CHECK_EQ_INT(blocks_tampered(BT_VALUE_256, &res, &report), 1);
	if (!strstr(res.first_problem, "onmitsu.csv:3..258 (records seq 1..256): edited"))
		TEST_FAIL_("unexpected: %s", report);
	/* the block after it links to the true value, not the stored one */
	CHECK_EQ_INT(res.problems, 1);
	free(report);
}

TEST(blocks_delete_insert_truncate_still_detected)
{
	struct verify_result res;
	char *report;
	CHECK_EQ_INT(blocks_tampered(BT_DELETE_300, &res, &report), 1);
	if (!strstr(res.first_problem, "onmitsu.csv:302 (seq 301): missing: records seq 300..300"))
		TEST_FAIL_("unexpected: %s", report);
	CHECK_EQ_INT(res.problems, 1); /* the block's break is the same damage */
	free(report);

	CHECK_EQ_INT(blocks_tampered(BT_INSERT_300, &res, &report), 1);
	if (!strstr(res.first_problem, "onmitsu.csv:303 (seq 100): inserted"))
		TEST_FAIL_("unexpected: %s", report);
	CHECK_EQ_INT(res.problems, 1);
	free(report);

	/* a checkpoint inserted: the block after it follows the one before */
	CHECK_EQ_INT(blocks_tampered(BT_INSERT_CP_300, &res, &report), 1);
	if (!strstr(res.first_problem, "onmitsu.csv:303 (seq 256): inserted"))
		TEST_FAIL_("unexpected: %s", report);
	CHECK_EQ_INT(res.problems, 1);
	free(report);

	CHECK_EQ_INT(blocks_tampered(BT_TRUNCATE_400, &res, &report), 1);
	if (!strstr(res.first_problem, "not STOP: truncated") ||
	    !strstr(report, "records seq 257..400 come after the last checkpoint"))
		TEST_FAIL_("unexpected: %s", report);
	free(report);
}

TEST(blocks_checkpoint_value_removed_is_found)
{
	struct verify_result res;
	char *report;
	/* removing a value changes no hash, but makes a block too long */
	CHECK_EQ_INT(blocks_tampered(BT_STRIP_256, &res, &report), 1);
	if (!strstr(res.first_problem, "(seq 256): 256 records in a row without a chain value"))
		TEST_FAIL_("unexpected: %s", report);
	free(report);
	CHECK_EQ_INT(blocks_tampered(BT_STRIP_STOP, &res, &report), 1);
	if (!strstr(res.first_problem, "onmitsu.csv:603 (seq 601): no chain value on a STOP"))
		TEST_FAIL_("unexpected: %s", report);
	free(report);
	CHECK_EQ_INT(blocks_tampered(BT_NONE, &res, &report), 0);
	free(report);
}

/* A block that ends at a segment's first record holds the end of the
 * segment before it: an edit there is named across the two. */
TEST(blocks_checkpoint_at_a_segment_start)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	CHECK_EQ_INT(lf_run(dir, LF_T0, 0, 120, LOG_MIN_ROTATE_SIZE, NULL, false), 0);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct segment_info *segs;
	int nseg = segment_list(dfd, &segs);
	close(dfd);
	CHECK(nseg >= 3);
	struct strbuf sb = STRBUF_INIT;
	static char *lines[LINES_MAX];
	char p[4096];
	/* every segment begins with a checkpoint */
	for (int i = 0; i < nseg; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, segs[i].name);
		size_t n = lines_in(p, &sb, lines, LINES_MAX);
		CHECK(n >= 2);
		CHECK_EQ_INT(strlen(field_of(lines[1])), CHAIN_HEX_LEN);
	}
	/* edit the last record of the first segment */
	snprintf(p, sizeof(p), "%s/%s", dir, segs[0].name);
	size_t n = lines_in(p, &sb, lines, LINES_MAX);
	CHECK(n > 3);
	CHECK_EQ_INT(strlen(field_of(lines[n - 1])), 0);
	char *x = strstr(lines[n - 1], "/bin/prog");
	CHECK(x != NULL);
	x[1] = 'B';
	CHECK_EQ_INT(lines_out(p, lines, n), 0);
	/* the checkpoint before it: the last line of the segment with a value */
	size_t cp = n - 1;
	while (cp > 1 && !*field_of(lines[cp]))
		cp--;
	uint64_t last_seq = segs[0].first_seq + (n - 2), first_seq = segs[0].first_seq + cp;
	char want[1024];
	snprintf(want, sizeof(want), "%s:%zu..%s:2 (records seq %" PRIu64 "..%" PRIu64 "): edited",
		 segs[0].name, cp + 2, segs[1].name, first_seq, last_seq + 1);
	CHECK_EQ_INT(segs[1].first_seq, last_seq + 1);
	struct verify_result res;
	char *report;
	CHECK_EQ_INT(lf_verify(dir, NULL, &res, &report), 1);
	if (!strstr(res.first_problem, want))
		TEST_FAIL_("want %s\n%s", want, report);
	CHECK_EQ_INT(res.problems, 1);
	free(report);
	free(segs);
	sb_free(&sb);
	lf_rm_rf(dir);
	free(dir);
}

/*
 * A crash between two checkpoints leaves records with no value after them.
 * The next run begins a segment with a START that names the chain value over
 * them (previous_chain=): from then on an edit among them is found, in the
 * block that ends at that START.
 */
TEST(blocks_crash_between_checkpoints_then_restart)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	CHECK_EQ_INT(lf_run(dir, LF_T0, 0, 300, 0, NULL, true), 0); /* seq 0..300 */
	struct verify_result res;
	char *report;
	CHECK_EQ_INT(lf_verify(dir, NULL, &res, &report), 1);
	if (!strstr(report, "records seq 257..300 come after the last checkpoint") ||
	    !strstr(res.first_problem, "not STOP"))
		TEST_FAIL_("unexpected: %s", report);
	free(report);
	CHECK_EQ_INT(lf_run(dir, LF_T0 + 60000000000ull, 300, 5, 0, NULL, false), 0);
	CHECK_EQ_INT(lf_verify(dir, NULL, &res, &report), 0);
	free(report);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct segment_info *segs;
	CHECK_EQ_INT(segment_list(dfd, &segs), 2);
	close(dfd);
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, segs[0].name);
	struct strbuf sb = STRBUF_INIT;
	static char *lines[LINES_MAX];
	size_t n = lines_in(p, &sb, lines, LINES_MAX);
	CHECK_EQ_INT(n, 302);
	*strstr(lines[281], "prog279") = 'P'; /* seq 280 */
	CHECK_EQ_INT(lines_out(p, lines, n), 0);
	CHECK_EQ_INT(lf_verify(dir, NULL, &res, &report), 1);
	char want[512];
	snprintf(want, sizeof(want), "%s:259..onmitsu.csv:2 (records seq 257..301): edited",
		 segs[0].name);
	if (!strstr(res.first_problem, want))
		TEST_FAIL_("want %s\n%s", want, report);
	free(report);
	free(segs);
	sb_free(&sb);
	lf_rm_rf(dir);
	free(dir);
}

TEST(blocks_jsonl_leaves_the_member_out)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	struct log_writer_opts o;
	lf_opts(&o, 0, NULL);
	o.format = LOG_FORMAT_JSONL;
	struct log_writer w;
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	uint64_t t = LF_T0;
	lf_append(&w, OM_EVENT_START, t, 0);
	for (int i = 0; i < 300; i++)
		lf_append(&w, OM_EVENT_EXEC, t += 1000, i);
	lf_append(&w, OM_EVENT_STOP, t += 1000, 0);
	CHECK_EQ_INT(log_writer_sync(&w), 0);
	log_writer_close(&w);
	char p[4096];
	snprintf(p, sizeof(p), "%s/onmitsu.jsonl", dir);
	struct strbuf sb = STRBUF_INIT;
	static char *lines[LINES_MAX];
	size_t n = lines_in(p, &sb, lines, LINES_MAX);
	CHECK_EQ_INT(n, 302);
	for (size_t i = 0; i < n; i++) {
		bool cp = i == 0 || i == 256 || i == 301;
		if ((strstr(lines[i], JSONL_CHAIN_MEMBER) != NULL) != cp)
			TEST_FAIL_("line %zu: %s", i + 1, lines[i]);
		size_t body, flen;
		const char *f;
		CHECK(chain_split_line(lines[i], strlen(lines[i]), true, &body, &f, &flen));
		CHECK_EQ_INT(flen, cp ? CHAIN_HEX_LEN : 0);
		/* the hashed body is the same either way: the line without the
		 * member and without its closing braces (the member is the only
		 * one of an empty "onmitsu" object, or follows a comma) */
		if (cp)
			CHECK(lines[i][body] == ',' || lines[i][body - 1] == '{');
		else
			CHECK(strcmp(lines[i] + body, "}}") == 0);
	}
	struct verify_result res;
	char *report;
	CHECK_EQ_INT(lf_verify(dir, NULL, &res, &report), 0);
	free(report);
	*strstr(lines[100], "prog99") = 'P'; /* seq 100 */
	CHECK_EQ_INT(lines_out(p, lines, n), 0);
	CHECK_EQ_INT(lf_verify(dir, NULL, &res, &report), 1);
	if (!strstr(res.first_problem, "onmitsu.jsonl:2..257 (records seq 1..256): edited"))
		TEST_FAIL_("unexpected: %s", report);
	free(report);
	sb_free(&sb);
	lf_rm_rf(dir);
	free(dir);
}

/* ---- logs written before 0.3 (tests/data/chain-v1) ---- */

/* Copy tests/data/chain-v1/NAME into a fresh directory. */
static char *old_log_copy(const char *name)
{
	char *dir = lf_tmpdir();
	if (!dir)
		return NULL;
	static const char *files[] = {
	    "onmitsu-20261125T191317.123456Z-000000000000.csv.zst", "onmitsu.csv",
	    "onmitsu-20261125T191317.123456Z-000000000000.jsonl.zst", "onmitsu.jsonl"};
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char from[4096], to[4096];
		snprintf(from, sizeof(from), "%s/chain-v1/%s/%s", test_data_dir(), name, files[i]);
		if (lf_read(from, &sb) != 0)
			continue;
		snprintf(to, sizeof(to), "%s/%s", dir, files[i]);
		if (lf_write(to, sb.data, sb.len) != 0)
			return NULL;
	}
	sb_free(&sb);
	return dir;
}

/* the test key the fixtures were sealed with: 32 bytes of 0x42 */
static void old_key(uint8_t key0[SEAL_KEY_LEN])
{
	memset(key0, 0x42, SEAL_KEY_LEN);
}

TEST(blocks_old_format_log_verifies_and_tampering_is_found)
{
	uint8_t key0[SEAL_KEY_LEN];
	old_key(key0);
	char *dir = old_log_copy("csv");
	CHECK(dir);
	struct verify_result res;
	char *report;
	CHECK_EQ_INT(lf_verify(dir, key0, &res, &report), 0);
	CHECK_EQ_INT(res.records, 1256);
	CHECK_EQ_INT(res.seals_checked, 4);
	free(report);
	char p[4096];
	snprintf(p, sizeof(p), "%s/onmitsu.csv", dir);
	struct strbuf orig = STRBUF_INIT, sb = STRBUF_INIT;
	CHECK_EQ_INT(lf_read(p, &orig), 0);
	static char *lines[LINES_MAX];
	size_t n = lines_in(p, &sb, lines, LINES_MAX);
	CHECK_EQ_INT(n, 185);
	/* a tag on every record but the checkpoints: each names its record */
	CHECK_EQ_INT(strlen(field_of(lines[50])), CHAIN_TAG_LEN);
	char *x = strstr(lines[50], "2026-11-25T");
	CHECK(x != NULL);
	x[3] = '7';
	CHECK_EQ_INT(lines_out(p, lines, n), 0);
	CHECK_EQ_INT(lf_verify(dir, key0, &res, &report), 1);
	if (!strstr(res.first_problem, "onmitsu.csv:51 (seq 1121): edited"))
		TEST_FAIL_("unexpected: %s", report);
	free(report);
	/* deleted */
	CHECK_EQ_INT(lf_write(p, orig.data, orig.len), 0);
	n = lines_in(p, &sb, lines, LINES_MAX);
	memmove(&lines[50], &lines[51], (n - 51) * sizeof(lines[0]));
	CHECK_EQ_INT(lines_out(p, lines, n - 1), 0);
	CHECK_EQ_INT(lf_verify(dir, key0, &res, &report), 1);
	if (!strstr(res.first_problem, "missing: records seq 1121..1121"))
		TEST_FAIL_("unexpected: %s", report);
	free(report);
	/* a new run goes on in the old log's active segment, sealing with the
	 * key where the old run left it (epoch 4, after seals 0..3): the old
	 * records and the new ones verify together */
	CHECK_EQ_INT(lf_write(p, orig.data, orig.len), 0);
	char keyfile[4096];
	snprintf(keyfile, sizeof(keyfile), "%s.key", dir);
	struct seal_key k = {.epoch = 0};
	memcpy(k.key, key0, SEAL_KEY_LEN);
	for (int e = 0; e < 4; e++)
		seal_key_evolve(&k);
	CHECK_EQ_INT(seal_key_store(keyfile, &k, NULL, 0), 0);
	CHECK_EQ_INT(lf_run(dir, LF_T0 + 3600000000000ull, 0, 300, 0, keyfile, false), 0);
	CHECK_EQ_INT(lf_verify(dir, key0, &res, &report), 0);
	CHECK_EQ_INT(res.records, 1256 + 303); /* START, 300 EXEC, STOP, SEAL */
	free(report);
	unlink(keyfile);
	sb_free(&orig);
	sb_free(&sb);
	lf_rm_rf(dir);
	free(dir);
}

TEST(blocks_old_format_jsonl_log_verifies_and_tampering_is_found)
{
	uint8_t key0[SEAL_KEY_LEN];
	old_key(key0);
	char *dir = old_log_copy("jsonl");
	CHECK(dir);
	struct verify_result res;
	char *report;
	CHECK_EQ_INT(lf_verify(dir, key0, &res, &report), 0);
	CHECK_EQ_INT(res.records, 354);
	free(report);
	char p[4096];
	snprintf(p, sizeof(p), "%s/onmitsu.jsonl", dir);
	struct strbuf sb = STRBUF_INIT;
	static char *lines[LINES_MAX];
	size_t n = lines_in(p, &sb, lines, LINES_MAX);
	CHECK(n > 20);
	size_t i = 10;
	while (i < n && !strstr(lines[i], "example.org"))
		i++;
	CHECK(i < n);
	*strstr(lines[i], "example.org") = 'E';
	CHECK_EQ_INT(lines_out(p, lines, n), 0);
	CHECK_EQ_INT(lf_verify(dir, key0, &res, &report), 1);
	char want[64];
	snprintf(want, sizeof(want), "onmitsu.jsonl:%zu (seq ", i + 1);
	if (!strstr(res.first_problem, want) || !strstr(res.first_problem, "edited"))
		TEST_FAIL_("unexpected: %s", report);
	free(report);
	sb_free(&sb);
	lf_rm_rf(dir);
	free(dir);
}
