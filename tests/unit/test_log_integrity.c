/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hash chain, seals, rotation, retention, torn-line recovery and verify:
 * logs written by the real writer into a temporary directory, then tampered
 * with in every way the issue names, and verified.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/chain.h"
#include "log/convert.h"
#include "log/forward.h"
#include "log/csv.h"
#include "log/jsonl.h"
#include "log/options.h"
#include "log/schema.h"
#include "log/seal.h"
#include "log/segment.h"
#include "log/verify.h"
#include "log/writer.h"
#include "log_fixture.h"
#include "test.h"
#include "util/strbuf.h"

#define T0 1795633997123456000ull /* 2026-11-25T19:13:17.123456Z */

static void writer_opts(struct log_writer_opts *o, uint64_t rotate_size, const char *key)
{
	log_writer_opts_default(o);
	o->rotate_size = rotate_size;
	o->rotate_age = 0;
	o->compress_level = 0; /* deterministic: the tests look at plain files */
	o->keep_size = 0;
	o->keep_age = 0;
	o->seal_key = key;
}

static void append_event(struct log_writer *w, enum om_event e, uint64_t t, int i)
{
	struct om_record r;
	om_record_init(&r, e);
	r.time_ns = t;
	char exe[64], args[64];
	int n = snprintf(args, sizeof(args), "/bin/prog%d%c-x%c", i, 0, 0);
	snprintf(exe, sizeof(exe), "/bin/prog%d", i);
	if (e == OM_EVENT_EXEC) {
		r.pid = 1000 + i;
		r.ppid = 1;
		r.uid = 0;
		r.exe = exe;
		r.exe_len = strlen(exe);
		r.args = args;
		r.args_len = (size_t)n;
		r.has_cmdline = true;
	} else {
		r.pid = 42;
		r.detail = e == OM_EVENT_START ? "version=test" : "events=0";
	}
	log_writer_append(w, &r);
}

/* START, n EXEC, STOP; returns 0 when the writer worked */
static int make_log(const char *dir, int n, uint64_t rotate_size, const char *key)
{
	struct log_writer_opts o;
	writer_opts(&o, rotate_size, key);
	struct log_writer w;
	if (log_writer_open(&w, dir, &o) != 0)
		return -1;
	uint64_t t = T0;
	append_event(&w, OM_EVENT_START, t, 0);
	for (int i = 0; i < n; i++)
		append_event(&w, OM_EVENT_EXEC, t += 1000000, i);
	append_event(&w, OM_EVENT_STOP, t += 1000000, 0);
	int rc = log_writer_sync(&w);
	log_writer_close(&w);
	return rc;
}

static int verify_quiet(const char *dir, const uint8_t *key0, struct verify_result *res)
{
	FILE *devnull = fopen("/dev/null", "we");
	int rc = log_verify(dir, key0, devnull, res);
	fclose(devnull);
	return rc;
}

/* the path of the active segment */
static void active_path(char *out, size_t size, const char *dir)
{
	snprintf(out, size, "%s/onmitsu.csv", dir);
}

/* lines of a file; returns count, pointers into sb (NUL-terminated) */
static size_t split_lines(struct strbuf *sb, char **lines, size_t max)
{
	size_t n = 0;
	char *p = sb->data;
	while (p && *p && n < max) {
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		lines[n++] = p;
		p = nl + 1;
	}
	return n;
}

static void join_lines(struct strbuf *out, char **lines, size_t n)
{
	sb_reset(out);
	for (size_t i = 0; i < n; i++) {
		sb_adds(out, lines[i]);
		sb_addc(out, '\n');
	}
}

TEST(log_chain_value_by_hand)
{
	/* chain = hex(SHA-256(prev 64 hex || line without ",chain")), from 64 zeros */
	char out[CHAIN_HEX_LEN + 1];
	chain_compute(CHAIN_SEED, "abc", 3, out);
	/* sha256("0"*64 + "abc"), computed independently with Python's hashlib */
	CHECK_EQ_STR(out, "b64374d04ef9c4f39fddb1e0d6be38a0130f6c057fc0f4ee467ea0e18bc758f1");
	struct chain c;
	chain_init(&c);
	chain_next(&c, "abc", 3);
	CHECK_EQ_STR(c.head, out);
	CHECK(chain_field_matches(out, out, CHAIN_TAG_LEN));
	CHECK(!chain_field_matches(out, "0000000000000000", CHAIN_TAG_LEN));
	CHECK(!chain_field_valid("ABCDEF0123456789", 16));
	chain_free(&c);
}

TEST(log_chain_in_written_log)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	CHECK_EQ_INT(make_log(dir, 3, 0, NULL), 0);
	char p[4096];
	active_path(p, sizeof(p), dir);
	struct strbuf sb = STRBUF_INIT;
	CHECK_EQ_INT(lf_read(p, &sb), 0);
	char *lines[16];
	size_t n = split_lines(&sb, lines, 16);
	CHECK_EQ_INT(n, 6); /* header, START, 3 EXEC, STOP */
	CHECK(strstr(lines[0], ",dns_answers,chain") != NULL);
	/* recompute by hand: START and STOP carry the full value, EXEC none
	 * (the field is empty, the value is still computed over it) */
	char prev[CHAIN_HEX_LEN + 1];
	memcpy(prev, CHAIN_SEED, sizeof(prev));
	for (size_t i = 1; i < n; i++) {
		char *comma = strrchr(lines[i], ',');
		char v[CHAIN_HEX_LEN + 1];
		chain_compute(prev, lines[i], (size_t)(comma - lines[i]), v);
		size_t flen = strlen(comma + 1);
		CHECK_EQ_INT(flen, i == 1 || i == n - 1 ? CHAIN_HEX_LEN : 0);
		CHECK(memcmp(v, comma + 1, flen) == 0);
		memcpy(prev, v, sizeof(prev));
	}
	struct verify_result res;
	CHECK_EQ_INT(verify_quiet(dir, NULL, &res), 0);
	CHECK_EQ_INT(res.records, 5);
	sb_free(&sb);
	lf_rm_rf(dir);
	free(dir);
}

/* Tamper with the active segment of a fresh 12-record log and verify. */
enum tamper { EDIT, DELETE, INSERT, REORDER, TRUNCATE };

static int tampered(enum tamper how, char *first_problem, size_t size)
{
	char *dir = lf_tmpdir();
	if (!dir || make_log(dir, 10, 0, NULL) != 0)
		return -1;
	char p[4096];
	active_path(p, sizeof(p), dir);
	struct strbuf sb = STRBUF_INIT, out = STRBUF_INIT;
	lf_read(p, &sb);
	char *lines[32];
	size_t n = split_lines(&sb, lines, 32);
	char copy[4096];
	switch (how) {
	case EDIT: /* one byte of line 6 (seq 4): /bin/prog3 -> /bin/prog8 */
		*strstr(lines[5], "prog3") = 'P';
		break;
	case DELETE:
		memmove(&lines[5], &lines[6], (n - 6) * sizeof(lines[0]));
		n--;
		break;
	case INSERT: /* a copy of line 4 again after line 6 */
		snprintf(copy, sizeof(copy), "%s", lines[3]);
		memmove(&lines[7], &lines[6], (n - 6) * sizeof(lines[0]));
		lines[6] = copy;
		n++;
		break;
	case REORDER: {
		char *t = lines[5];
		lines[5] = lines[6];
		lines[6] = t;
		break;
	}
	case TRUNCATE:
		n -= 2;
		break;
	}
	join_lines(&out, lines, n);
	lf_write(p, out.data, out.len);
	struct verify_result res;
	int rc = verify_quiet(dir, NULL, &res);
	snprintf(first_problem, size, "%s", res.first_problem);
	sb_free(&sb);
	sb_free(&out);
	lf_rm_rf(dir);
	free(dir);
	return rc;
}

TEST(log_verify_detects_edit)
{
	char why[512];
	CHECK_EQ_INT(tampered(EDIT, why, sizeof(why)), 1);
	/* seq 4 is in the block from START (seq 0) to STOP (seq 11) */
	CHECK(strstr(why, "onmitsu.csv:3..13 (records seq 1..11): edited") != NULL);
}

TEST(log_verify_detects_delete)
{
	char why[512];
	CHECK_EQ_INT(tampered(DELETE, why, sizeof(why)), 1);
	CHECK(strstr(why, "missing: records seq 4..4") != NULL);
}

TEST(log_verify_detects_insert)
{
	char why[512];
	CHECK_EQ_INT(tampered(INSERT, why, sizeof(why)), 1);
	CHECK(strstr(why, "onmitsu.csv:7") && strstr(why, "inserted"));
}

TEST(log_verify_detects_reorder)
{
	char why[512];
	CHECK_EQ_INT(tampered(REORDER, why, sizeof(why)), 1);
	CHECK(strstr(why, "onmitsu.csv:6") != NULL);
	if (!strstr(why, "missing") && !strstr(why, "reordered"))
		TEST_FAIL_("unexpected: %s", why);
}

TEST(log_verify_detects_truncation)
{
	char why[512];
	CHECK_EQ_INT(tampered(TRUNCATE, why, sizeof(why)), 1);
	CHECK(strstr(why, "not STOP: truncated") != NULL);
}

TEST(log_rotation_names_and_swapped_segments)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	CHECK_EQ_INT(make_log(dir, 100, LOG_MIN_ROTATE_SIZE, NULL), 0);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct segment_info *segs;
	int n = segment_list(dfd, &segs);
	CHECK(n >= 3);
	/* named by the first record: time then seq, sorting in time order */
	CHECK_EQ_STR(segs[0].name, "onmitsu-20261125T191317.123456Z-000000000000.csv");
	for (int i = 1; i < n - 1; i++) {
		CHECK(strcmp(segs[i - 1].name, segs[i].name) < 0);
		CHECK(segs[i].first_seq > segs[i - 1].first_seq);
	}
	CHECK(segs[n - 1].active);
	struct verify_result res;
	CHECK_EQ_INT(verify_quiet(dir, NULL, &res), 0);
	CHECK_EQ_INT(res.records, 102);
	CHECK_EQ_INT(res.segments, (uint64_t)n);
	/* swap the contents of the first two segments */
	char a[4096], b[4096], t[4096];
	snprintf(a, sizeof(a), "%s/%s", dir, segs[0].name);
	snprintf(b, sizeof(b), "%s/%s", dir, segs[1].name);
	snprintf(t, sizeof(t), "%s/swap", dir);
	CHECK(rename(a, t) == 0 && rename(b, a) == 0 && rename(t, b) == 0);
	CHECK_EQ_INT(verify_quiet(dir, NULL, &res), 1);
	CHECK(strstr(res.first_problem, "segments renamed, swapped or spliced") != NULL);
	free(segs);
	close(dfd);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_compressed_segments_verify)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	CHECK_EQ_INT(make_log(dir, 100, LOG_MIN_ROTATE_SIZE, NULL), 0);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct segment_info *segs;
	int n = segment_list(dfd, &segs);
	char err[256];
	for (int i = 0; i < n; i++)
		if (!segs[i].active)
			CHECK_EQ_INT(segment_compress(dfd, segs[i].name, 3, NULL, err, sizeof(err)),
				     0);
	free(segs);
	int m = segment_list(dfd, &segs);
	CHECK_EQ_INT(m, n);
	CHECK(segs[0].zst);
	struct verify_result res;
	CHECK_EQ_INT(verify_quiet(dir, NULL, &res), 0);
	CHECK_EQ_INT(res.records, 102);
	/* a truncated compressed segment is reported */
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, segs[0].name);
	struct stat st;
	stat(p, &st);
	CHECK(truncate(p, st.st_size - 10) == 0);
	CHECK_EQ_INT(verify_quiet(dir, NULL, &res), 1);
	free(segs);
	close(dfd);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_retention_oldest_first)
{
	struct segment_info s[4];
	memset(s, 0, sizeof(s));
	for (int i = 0; i < 4; i++) {
		s[i].size = 100;
		s[i].mtime = 1000 + i * 100;
	}
	/* by size: 4 x 100 + active 50 = 450; keep 250 -> drop the two oldest */
	CHECK_EQ_INT(segment_plan_retention(s, 4, 50, 250, 0, 2000), 2);
	/* by age: older than 500 s at now=1700 -> mtimes 1000 and 1100 */
	CHECK_EQ_INT(segment_plan_retention(s, 4, 0, 0, 500, 1700), 2);
	/* no limits */
	CHECK_EQ_INT(segment_plan_retention(s, 4, 0, 0, 0, 1700), 0);
	/* everything may go, but never the active segment (not in the list) */
	CHECK_EQ_INT(segment_plan_retention(s, 4, 1000, 10, 0, 1700), 4);
}

TEST(log_segment_names)
{
	char name[SEGMENT_NAME_MAX];
	segment_name(name, sizeof(name), T0, 42, LOG_FORMAT_CSV);
	CHECK_EQ_STR(name, "onmitsu-20261125T191317.123456Z-000000000042.csv");
	uint64_t t, seq;
	enum log_format f;
	bool zst;
	CHECK(segment_name_parse("onmitsu-20261125T191317.123456Z-000000000042.csv.zst", &t, &seq,
				 &f, &zst));
	CHECK(t == T0 && seq == 42 && f == LOG_FORMAT_CSV && zst);
	CHECK(segment_name_parse("onmitsu-20261125T191317.123456Z-000000000042.jsonl", &t, &seq, &f,
				 &zst));
	CHECK(f == LOG_FORMAT_JSONL && !zst);
	CHECK(!segment_name_parse("onmitsu.csv", NULL, NULL, NULL, NULL));
	CHECK(!segment_name_parse("onmitsu-2026.csv", NULL, NULL, NULL, NULL));
	CHECK(!segment_name_parse("onmitsu-20261125T191317.123456Z-000000000042.csv.zst.tmp", NULL,
				  NULL, NULL, NULL));
}

TEST(log_torn_line_recovery_continues_chain)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	CHECK_EQ_INT(make_log(dir, 5, 0, NULL), 0);
	char p[4096];
	active_path(p, sizeof(p), dir);
	/* a crash mid-write: records after STOP, the last one torn */
	struct strbuf sb = STRBUF_INIT;
	lf_read(p, &sb);
	size_t clean = sb.len;
	struct log_writer_opts o;
	writer_opts(&o, 0, NULL);
	struct log_writer w;
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	append_event(&w, OM_EVENT_START, T0 + 100000000, 0);
	append_event(&w, OM_EVENT_EXEC, T0 + 200000000, 7);
	log_writer_flush(&w);
	log_writer_close(&w); /* no STOP: as if killed */
	lf_read(p, &sb);
	CHECK(sb.len > clean);
	FILE *f = fopen(p, "ae");
	fputs("2026-11-25T19:13:18.000000Z,99,EXE", f);
	fclose(f);

	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	CHECK_EQ_INT(w.torn_bytes, 34);
	CHECK(w.unclean);
	CHECK_EQ_INT(w.next_seq, 9);
	struct strbuf d = STRBUF_INIT;
	log_writer_start_detail(&w, &d, T0 + 5000000000ull);
	CHECK(strstr(d.data, "recovered_torn_bytes=34") != NULL);
	CHECK(strstr(d.data, "previous_end=crash") != NULL);
	CHECK(strstr(d.data, "gap_seconds=4.800") != NULL);
	struct om_record start;
	om_record_init(&start, OM_EVENT_START);
	start.time_ns = T0 + 5000000000ull;
	start.detail = d.data + 1;
	log_writer_append(&w, &start);
	append_event(&w, OM_EVENT_STOP, T0 + 5100000000ull, 0);
	log_writer_close(&w);
	/* the crashed segment was closed as it was; the new run has its own */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct segment_info *segs;
	CHECK_EQ_INT(segment_list(dfd, &segs), 2);
	close(dfd);
	free(segs);
	struct verify_result res;
	CHECK_EQ_INT(verify_quiet(dir, NULL, &res), 0);
	CHECK_EQ_INT(res.records, 11);
	CHECK_EQ_INT(res.gaps, 1);
	sb_free(&sb);
	sb_free(&d);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_seals_forward_secure)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	char keyfile[4096];
	snprintf(keyfile, sizeof(keyfile), "%s.key", dir);
	struct seal_key k;
	CHECK_EQ_INT(seal_key_generate(&k), 0);
	uint8_t key0[SEAL_KEY_LEN];
	memcpy(key0, k.key, SEAL_KEY_LEN);
	CHECK_EQ_INT(seal_key_store(keyfile, &k, NULL, 0), 0);
	/* rotation seals each new segment; close seals the end */
	CHECK_EQ_INT(make_log(dir, 100, LOG_MIN_ROTATE_SIZE, keyfile), 0);
	struct seal_key now;
	char err[256];
	CHECK_EQ_INT(seal_key_load(keyfile, &now, err, sizeof(err)), 0);
	CHECK(now.epoch >= 3);
	/* the key on disk is not the first one, and evolving key0 gives it */
	CHECK(memcmp(now.key, key0, SEAL_KEY_LEN) != 0);
	for (uint64_t e = 0; e < now.epoch; e++)
		seal_key_evolve(&k);
	CHECK(memcmp(now.key, k.key, SEAL_KEY_LEN) == 0);
	struct verify_result res;
	CHECK_EQ_INT(verify_quiet(dir, key0, &res), 0);
	CHECK_EQ_INT(res.seals, now.epoch);
	CHECK_EQ_INT(res.seals_checked, now.epoch);
	/* the wrong key fails every seal */
	uint8_t wrong[SEAL_KEY_LEN];
	memset(wrong, 7, sizeof(wrong));
	CHECK_EQ_INT(verify_quiet(dir, wrong, &res), 1);
	CHECK(strstr(res.first_problem, "does not verify") != NULL);

	/* whoever holds the current key rewrites the last segment and re-seals
	 * it with the current epoch: the epoch gives the forgery away when
	 * verified with key0, since the true seal of that epoch... is still to
	 * come; what the forger cannot do is seal with an older epoch */
	char p[4096];
	active_path(p, sizeof(p), dir);
	struct strbuf sb = STRBUF_INIT;
	lf_read(p, &sb);
	char *epoch = strstr(sb.data, "epoch=");
	CHECK(epoch != NULL);
	/* claim an older epoch for a seal: its HMAC no longer verifies */
	char *digit = epoch + 6;
	*digit = *digit == '0' ? '1' : (char)(*digit - 1);
	lf_write(p, sb.data, sb.len);
	CHECK_EQ_INT(verify_quiet(dir, key0, &res), 1);
	sb_free(&sb);
	seal_key_wipe(&k);
	unlink(keyfile);
	lf_rm_rf(dir);
	free(dir);
}

/* A log by hand: START (seq 0), then one SEAL of each epoch in epochs[],
 * each chained and sealed correctly with key0, the last with reason=stop. */
static void write_seals(const char *dir, const uint8_t *key0, const uint64_t *epochs, size_t n)
{
	struct strbuf sb = STRBUF_INIT, line = STRBUF_INIT, detail = STRBUF_INIT;
	log_write_header(&sb, true);
	char prev[CHAIN_HEX_LEN + 1], c[CHAIN_HEX_LEN + 1];
	memcpy(prev, CHAIN_SEED, sizeof(prev));
	for (size_t i = 0; i <= n; i++) {
		char time[32], seq[24], hmac[SEAL_HMAC_HEX_LEN + 1];
		csv_format_time(time, sizeof(time), T0 + i * 1000000000ull);
		snprintf(seq, sizeof(seq), "%zu", i);
		sb_reset(&detail);
		if (i == 0) {
			sb_adds(&detail, "version=test sealing=1 seal_epoch=0");
		} else {
			struct seal_key k = {.epoch = 0};
			memcpy(k.key, key0, SEAL_KEY_LEN);
			while (k.epoch < epochs[i - 1])
				seal_key_evolve(&k);
			seal_hmac(k.key, k.epoch, i, prev, hmac);
			sb_addf(&detail, "reason=%s epoch=%" PRIu64 " head=%s hmac=%s",
				i == n ? "stop" : "interval", k.epoch, prev, hmac);
		}
		const char *f[COL_COUNT] = {time, seq, i == 0 ? "START" : "SEAL"};
		f[COL_DETAIL] = sb_str(&detail);
		sb_reset(&line);
		csv_encode_fields(&line, f, COL_COUNT);
		chain_compute(prev, line.data, line.len, c);
		sb_add(&sb, line.data, line.len);
		sb_addf(&sb, ",%s\n", c);
		memcpy(prev, c, sizeof(prev));
	}
	char path[4096];
	active_path(path, sizeof(path), dir);
	lf_write(path, sb.data, sb.len);
	sb_free(&sb);
	sb_free(&line);
	sb_free(&detail);
}

/* Found with tests/fuzz/fuzz_verify (an input with a seal of epoch 99999999
 * ran past its timeout): a seal whose epoch went back made verify derive the
 * keys again from key[0], so a forged log of seals going up to 10^8 and back
 * down kept `verify --key` hashing some 40 s a seal. Keys are derived once,
 * forward; a seal that goes back is reported, not checked. */
TEST(log_verify_derives_seal_keys_forward_only)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	uint8_t key0[SEAL_KEY_LEN];
	memset(key0, 0x5a, sizeof(key0));
	/* a clean run first: epochs 0, 1, 2 verify */
	const uint64_t clean[] = {0, 1, 2};
	write_seals(dir, key0, clean, 3);
	struct verify_result res;
	CHECK_EQ_INT(verify_quiet(dir, key0, &res), 0);
	CHECK_EQ_INT(res.seals_checked, 3);
	/* down and up again: each HMAC is right for its epoch */
	const uint64_t updown[] = {20000, 0, 20000, 1};
	write_seals(dir, key0, updown, 4);
	CHECK_EQ_INT(verify_quiet(dir, key0, &res), 1);
	CHECK_EQ_INT(res.seals, 4);
	CHECK_EQ_INT(res.seals_checked, 2); /* 20000 twice; 0 and 1 come after it */
	CHECK(strstr(res.first_problem, "seal epoch 20000 where 0 was due") != NULL);
	CHECK(res.problems >= 3); /* and 0, 1 after 20000 */
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_seal_verify_key_text)
{
	uint8_t k[SEAL_KEY_LEN], back[SEAL_KEY_LEN];
	for (int i = 0; i < SEAL_KEY_LEN; i++)
		k[i] = (uint8_t)(i * 7);
	char text[128];
	seal_verify_key_format(k, text, sizeof(text));
	CHECK(strncmp(text, SEAL_VERIFY_PREFIX, strlen(SEAL_VERIFY_PREFIX)) == 0);
	char file[256];
	snprintf(file, sizeof(file), "my key:\n%s\n", text);
	CHECK_EQ_INT(seal_verify_key_parse(file, back), 0);
	CHECK(memcmp(k, back, SEAL_KEY_LEN) == 0);
	CHECK_EQ_INT(seal_verify_key_parse("onmitsu-verify-v1:abc", back), -1);
	char d[32];
	CHECK(detail_get("reason=stop epoch=3 head=ab", "epoch", d, sizeof(d)));
	CHECK_EQ_STR(d, "3");
	CHECK(!detail_get("reasons=x", "reason", d, sizeof(d)));
}

TEST(log_jsonl_escaping_and_roundtrip)
{
	/* hostile values: quotes, backslashes (already \x-escaped text), commas */
	const char *f[COL_COUNT + 1] = {"2026-11-25T19:13:17.123456Z",
					"7",
					"EXEC",
					"10",
					"1",
					"0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b",
					"",
					"0",
					"/tmp/a\"b\\x5c",
					"sh -c \"x \\x22y\\x22\\x0a1,2,EXEC\"",
					"",
					"",
					"",
					"",
					"",
					"out",
					"",
					"",
					"",
					"k=v q=\"}"};
	for (int i = COL_DETAIL + 1; i < COL_COUNT; i++)
		f[i] = ""; /* the columns appended in 0.3 */
	struct strbuf out = STRBUF_INIT, csv = STRBUF_INIT;
	struct jsonl_store store = {STRBUF_INIT, STRBUF_INIT};
	struct jsonl_host h = {"vm", "abc", NULL};
	jsonl_encode_fields(&out, f, &h, "0123456789abcdef");
	/* ECS: nested objects, the values themselves (escapes undone), the argv */
	CHECK_EQ_STR(
	    out.data,
	    "{\"@timestamp\":\"2026-11-25T19:13:17.123456Z\",\"ecs\":{\"version\":\"8.17.0\"},"
	    "\"event\":{\"kind\":\"event\",\"category\":[\"process\"],\"type\":[\"start\"],"
	    "\"action\":\"exec\",\"sequence\":7},\"host\":{\"name\":\"vm\",\"id\":\"abc\"},"
	    "\"process\":{\"pid\":10,\"entity_id\":\"0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b\","
	    "\"executable\":\"/tmp/a\\\"b\\\\\",\"name\":\"a\\\"b\\\\\","
	    "\"args\":[\"sh\",\"-c\",\"x \\\"y\\\"\\u000a1,2,EXEC\"],\"args_count\":3,"
	    "\"command_line\":\"sh -c x \\\"y\\\"\\u000a1,2,EXEC\",\"parent\":{\"pid\":1}},"
	    "\"user\":{\"id\":\"0\"},\"network\":{\"direction\":\"egress\"},"
	    "\"onmitsu\":{\"detail\":\"k=v q=\\\"}\",\"chain\":\"0123456789abcdef\"}}\n");
	const char *back[COL_COUNT + 1];
	struct jsonl_host hb;
	CHECK_EQ_INT(jsonl_decode(out.data, out.len - 1, &store, back, &hb), JSONL_ECS);
	for (int i = 0; i < COL_COUNT; i++)
		CHECK_EQ_STR(back[i], f[i]);
	CHECK_EQ_STR(back[COL_COUNT], "0123456789abcdef");
	CHECK_EQ_STR(hb.name, "vm");
	/* and to CSV, quoted as the CSV writer quotes */
	csv_encode_fields(&csv, back, COL_COUNT);
	CHECK_EQ_STR(
	    csv.data,
	    "2026-11-25T19:13:17.123456Z,7,EXEC,10,1,"
	    "0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b,,0,\"/tmp/a\"\"b\\x5c\","
	    "\"sh -c \"\"x \\x22y\\x22\\x0a1,2,EXEC\"\"\",,,,,,out,,,,\"k=v q=\"\"}\",,,,,,,,");
	/* the chain split finds the chain member even with "} in values */
	size_t body_len, flen;
	const char *field;
	CHECK(chain_split_line(out.data, out.len - 1, true, &body_len, &field, &flen));
	CHECK_EQ_INT(flen, 16);
	CHECK(strncmp(out.data + body_len, ",\"chain\":\"", 10) == 0);
	/* a flat line of before 0.3 still reads, and its chain splits */
	static const char flat[] =
	    "{\"@timestamp\":\"2026-11-25T19:13:17.123456Z\",\"event.sequence\":7,"
	    "\"event.action\":\"EXEC\",\"host.name\":\"vm\",\"process.pid\":10,"
	    "\"process.executable\":\"/tmp/a\\\\x5c\",\"process.command_line\":\"a \\\"b c\\\"\","
	    "\"network.direction\":\"outbound\",\"onmitsu.chain\":\"0123456789abcdef\"}";
	CHECK_EQ_INT(jsonl_decode(flat, sizeof(flat) - 1, &store, back, &hb), JSONL_FLAT);
	CHECK_EQ_STR(back[COL_EVENT], "EXEC");
	CHECK_EQ_STR(back[COL_EXE], "/tmp/a\\x5c");
	CHECK_EQ_STR(back[COL_CMDLINE], "a \"b c\"");
	CHECK_EQ_STR(back[COL_DIRECTION], "out");
	CHECK_EQ_STR(back[COL_COUNT], "0123456789abcdef");
	CHECK_EQ_STR(hb.name, "vm");
	CHECK(chain_split_line(flat, sizeof(flat) - 1, true, &body_len, &field, &flen));
	CHECK(strncmp(flat + body_len, ",\"onmitsu.chain\"", 16) == 0);
	/* not ours: arrays in arrays, bad escapes, trailing text, a NUL */
	CHECK_EQ_INT(jsonl_decode("{\"a\":[[1]]}", 11, &store, back, NULL), -1);
	CHECK_EQ_INT(jsonl_decode("{\"a\":\"\\q\"}", 10, &store, back, NULL), -1);
	CHECK_EQ_INT(jsonl_decode("{\"a\":1} x", 9, &store, back, NULL), -1);
	CHECK_EQ_INT(jsonl_decode("{\"a\":\"\\u0000\"}", 14, &store, back, NULL), -1);
	/* a control byte in a value is escaped as \u00XX */
	sb_reset(&out);
	json_escape(&out,
		    "a\x01"
		    "b",
		    3);
	CHECK_EQ_STR(out.data, "a\\u0001b");
	sb_free(&out);
	jsonl_store_free(&store);
	sb_free(&csv);
}

TEST(log_jsonl_writer_verifies)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	struct log_writer_opts o;
	writer_opts(&o, 0, NULL);
	o.format = LOG_FORMAT_JSONL;
	o.host.name = "vm";
	struct log_writer w;
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	append_event(&w, OM_EVENT_START, T0, 0);
	append_event(&w, OM_EVENT_EXEC, T0 + 1000, 1);
	append_event(&w, OM_EVENT_STOP, T0 + 2000, 0);
	log_writer_close(&w);
	struct verify_result res;
	CHECK_EQ_INT(verify_quiet(dir, NULL, &res), 0);
	CHECK_EQ_INT(res.records, 3);
	/* a CSV recorder refuses the directory */
	writer_opts(&o, 0, NULL);
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), -1);
	log_writer_close(&w);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_duration_parsing)
{
	uint64_t v;
	CHECK(parse_duration("90d", &v) == 0 && v == 90 * 86400);
	CHECK(parse_duration("12h", &v) == 0 && v == 12 * 3600);
	CHECK(parse_duration("5m", &v) == 0 && v == 300);
	CHECK(parse_duration("45", &v) == 0 && v == 45);
	CHECK(parse_duration("0", &v) == 0 && v == 0);
	CHECK(parse_duration("1w", &v) == -1);
	CHECK(parse_duration("-1d", &v) == -1);
	CHECK(parse_duration("", &v) == -1);
}

TEST(log_syslog_frame_rfc5424_octet_counted)
{
	struct strbuf out = STRBUF_INIT;
	const char json[] = "{\"event.sequence\":7}";
	syslog_frame(&out, "2026-11-25T19:13:17.123456Z", "vm", 42, "EXEC", json, sizeof(json) - 1);
	const char *msg = "<110>1 2026-11-25T19:13:17.123456Z vm onmitsu 42 EXEC - "
			  "{\"event.sequence\":7}";
	char want[256];
	snprintf(want, sizeof(want), "%zu %s", strlen(msg), msg);
	CHECK_EQ_STR(out.data, want);
	sb_free(&out);
}

TEST(log_cat_converts_both_ways_losslessly)
{
	char *dir = lf_tmpdir(), *dir2 = lf_tmpdir();
	CHECK(dir && dir2);
	CHECK_EQ_INT(make_log(dir, 60, LOG_MIN_ROTATE_SIZE, NULL), 0);
	/* CSV -> CSV: one header, every record as written */
	char *csv_text = NULL, *jsonl_text = NULL, *back = NULL;
	size_t csv_len = 0, jsonl_len = 0, back_len = 0;
	FILE *m = open_memstream(&csv_text, &csv_len);
	CHECK_EQ_INT(log_cat(dir, LOG_FORMAT_CSV, m), 0);
	fclose(m);
	CHECK_EQ_INT(log_dir_format(dir), LOG_FORMAT_CSV);
	/* CSV -> JSONL */
	m = open_memstream(&jsonl_text, &jsonl_len);
	CHECK_EQ_INT(log_cat(dir, LOG_FORMAT_JSONL, m), 0);
	fclose(m);
	CHECK(strncmp(jsonl_text, "{\"@timestamp\":", 14) == 0);
	/* that JSONL as a log of its own, back to CSV: the same bytes */
	char p[4096];
	snprintf(p, sizeof(p), "%s/onmitsu.jsonl", dir2);
	CHECK_EQ_INT(lf_write(p, jsonl_text, jsonl_len), 0);
	CHECK_EQ_INT(log_dir_format(dir2), LOG_FORMAT_JSONL);
	m = open_memstream(&back, &back_len);
	CHECK_EQ_INT(log_cat(dir2, LOG_FORMAT_CSV, m), 0);
	fclose(m);
	CHECK_EQ_INT(back_len, csv_len);
	CHECK(memcmp(back, csv_text, csv_len) == 0);
	/* 62 records and one header */
	size_t lines = 0;
	for (size_t i = 0; i < csv_len; i++)
		lines += csv_text[i] == '\n';
	CHECK_EQ_INT(lines, 63);
	free(csv_text);
	free(jsonl_text);
	free(back);
	lf_rm_rf(dir);
	lf_rm_rf(dir2);
	free(dir);
	free(dir2);
}

TEST(log_seal_values_by_hand)
{
	/* values computed independently with Python's hmac and hashlib */
	struct seal_key k;
	for (int i = 0; i < SEAL_KEY_LEN; i++)
		k.key[i] = (uint8_t)i;
	k.epoch = 3;
	char h[SEAL_HMAC_HEX_LEN + 1];
	seal_hmac(k.key, 3, 5, CHAIN_SEED, h);
	CHECK_EQ_STR(h, "acc9ee63f3dfd300a0ede67e2a24f12c35a6d5091dfae4428ac07685a400c81c");
	seal_key_evolve(&k);
	CHECK_EQ_INT(k.epoch, 4);
	static const uint8_t want[SEAL_KEY_LEN] = {0x7b, 0x03, 0x93, 0xa3, 0x36, 0x18, 0xd8, 0x8c,
						   0x35, 0x05, 0x1b, 0x3e, 0x7c, 0xfe, 0x4e, 0x8b,
						   0xf5, 0xdc, 0x07, 0x63, 0x59, 0x18, 0x75, 0xa1,
						   0x99, 0xa2, 0xc2, 0x65, 0xfa, 0xe7, 0x20, 0x90};
	CHECK(memcmp(k.key, want, SEAL_KEY_LEN) == 0);
}

TEST(log_crash_between_rotation_and_new_segment)
{
	/* a crash right after the rename of a rotation: no active segment is
	 * left, and the next start continues seq and chain from the newest
	 * closed one (whose last record carries only a tag) */
	char *dir = lf_tmpdir();
	CHECK(dir);
	struct log_writer_opts o;
	writer_opts(&o, 0, NULL);
	struct log_writer w;
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	append_event(&w, OM_EVENT_START, T0, 0);
	for (int i = 0; i < 5; i++)
		append_event(&w, OM_EVENT_EXEC, T0 + 1000 * (uint64_t)(i + 1), i);
	log_writer_close(&w);
	char from[4096], to[4096], name[SEGMENT_NAME_MAX];
	active_path(from, sizeof(from), dir);
	segment_name(name, sizeof(name), T0, 0, LOG_FORMAT_CSV);
	snprintf(to, sizeof(to), "%s/%s", dir, name);
	CHECK(rename(from, to) == 0);

	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	CHECK_EQ_INT(w.next_seq, 6);
	CHECK(w.unclean);
	CHECK(!w.chain_restarted);
	/* a clock that stepped back still names the next segment after it */
	struct om_record r;
	om_record_init(&r, OM_EVENT_START);
	r.time_ns = T0 - 1000000000ull;
	r.detail = "version=test";
	log_writer_append(&w, &r);
	CHECK_EQ_INT(log_writer_flush(&w), 0);
	log_writer_close(&w); /* no STOP: the next open closes this segment */
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	append_event(&w, OM_EVENT_STOP, T0 - 999000000ull, 0);
	log_writer_close(&w);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct segment_info *segs;
	CHECK_EQ_INT(segment_list(dfd, &segs), 3);
	close(dfd);
	CHECK_EQ_STR(segs[0].name, "onmitsu-20261125T191317.123456Z-000000000000.csv");
	CHECK_EQ_STR(segs[1].name, "onmitsu-20261125T191317.123456Z-000000000006.csv");
	free(segs);
	struct verify_result res;
	CHECK_EQ_INT(verify_quiet(dir, NULL, &res), 0);
	CHECK_EQ_INT(res.records, 8);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_settings_options)
{
	struct log_settings ls;
	log_settings_init(&ls);
	CHECK_EQ_INT(log_settings_option(&ls, LOG_OPT_SEAL_KEY, "none"), 1);
	log_settings_finish(&ls);
	CHECK(ls.w.seal_key == NULL); /* not even the default key */
	log_settings_init(&ls);
	CHECK_EQ_INT(log_settings_option(&ls, LOG_OPT_ROTATE_SIZE, "64M"), 1);
	CHECK(ls.w.rotate_size == 64ull << 20);
	CHECK_EQ_INT(log_settings_option(&ls, LOG_OPT_ROTATE_AGE, "0"), 1);
	CHECK(ls.w.rotate_age == 0);
	CHECK_EQ_INT(log_settings_option(&ls, LOG_OPT_SYSLOG, "[2001:db8::1]:514"), 1);
	CHECK_EQ_INT(log_settings_option(&ls, 'x', "whatever"), 0);
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "we");
	CHECK_EQ_INT(log_settings_option(&ls, LOG_OPT_SYSLOG, "host:99999"), -1);
	CHECK_EQ_INT(log_settings_option(&ls, LOG_OPT_COMPRESS, "20"), -1);
	CHECK_EQ_INT(log_settings_option(&ls, LOG_OPT_FORMAT, "xml"), -1);
	fclose(stderr);
	stderr = saved;
}

/* Rewrite lines[from..n) with new seqs and recomputed chain values, from the
 * full chain value prev (updated); each keeps its chain field's length. The
 * new lines go into store (NUL-terminated), their offsets into offs[]. */
static void rechain(char **lines, size_t from, size_t n, uint64_t first_seq, char *prev,
		    struct strbuf *store, size_t *offs)
{
	for (size_t i = from; i < n; i++) {
		char *c1 = strchr(lines[i], ','), *c2 = strchr(c1 + 1, ','),
		     *last = strrchr(lines[i], ',');
		size_t flen = strlen(last + 1);
		struct strbuf b = STRBUF_INIT;
		sb_add(&b, lines[i], (size_t)(c1 - lines[i]));
		sb_addf(&b, ",%" PRIu64, first_seq + (i - from));
		sb_add(&b, c2, (size_t)(last - c2));
		chain_compute(prev, b.data, b.len, prev);
		sb_addc(&b, ',');
		sb_add(&b, prev, flen);
		offs[i] = store->len;
		sb_add(store, b.data, b.len + 1); /* with its NUL */
		sb_free(&b);
	}
}

TEST(log_verify_detects_reseal_with_stolen_key)
{
	/* the thief of the current key edits sealed history, drops the seals
	 * after the edit and re-seals everything with the key it holds: each
	 * seal and the chain check out, but the epochs jump */
	char *dir = lf_tmpdir();
	CHECK(dir);
	char keyfile[4096];
	snprintf(keyfile, sizeof(keyfile), "%s.key", dir);
	struct seal_key k;
	CHECK_EQ_INT(seal_key_generate(&k), 0);
	uint8_t key0[SEAL_KEY_LEN];
	memcpy(key0, k.key, SEAL_KEY_LEN);
	CHECK_EQ_INT(seal_key_store(keyfile, &k, NULL, 0), 0);
	struct log_writer_opts o;
	writer_opts(&o, 0, keyfile);
	struct log_writer w;
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	uint64_t t = T0;
	append_event(&w, OM_EVENT_START, t, 0);
	for (int b = 0; b < 3; b++) {
		for (int i = 0; i < 10; i++)
			append_event(&w, OM_EVENT_EXEC, t += 1000, 10 * b + i);
		if (b < 2)
			log_writer_seal(&w, "interval", t += 1000);
	}
	append_event(&w, OM_EVENT_STOP, t += 1000, 0);
	log_writer_close(&w); /* seals epochs 0, 1 and (stop) 2; the key is now at 3 */
	struct verify_result res;
	CHECK_EQ_INT(verify_quiet(dir, key0, &res), 0);
	CHECK_EQ_INT(res.seals, 3);
	struct seal_key stolen;
	char err[256];
	CHECK_EQ_INT(seal_key_load(keyfile, &stolen, err, sizeof(err)), 0);
	CHECK_EQ_INT(stolen.epoch, 3);

	char p[4096];
	active_path(p, sizeof(p), dir);
	struct strbuf sb = STRBUF_INIT;
	lf_read(p, &sb);
	char *lines[64];
	size_t n = split_lines(&sb, lines, 64);
	/* header, START, 10 EXEC, SEAL0 (line 12), 10 EXEC, SEAL1 (23), 10 EXEC, STOP, SEAL2 */
	CHECK_EQ_INT(n, 36);
	CHECK(strstr(lines[12], ",SEAL,") && strstr(lines[23], ",SEAL,"));
	/* edit a record after seal 0, drop seal 1 and the stop seal */
	char *edited = strstr(lines[15], "prog12");
	CHECK(edited != NULL);
	edited[4] = 'X';
	memmove(&lines[23], &lines[24], (n - 24) * sizeof(lines[0]));
	n -= 2; /* and the last line (SEAL2) */
	/* the full chain value after seal 0 */
	char prev[CHAIN_HEX_LEN + 1];
	char *c = strrchr(lines[12], ',');
	memcpy(prev, c + 1, CHAIN_HEX_LEN);
	prev[CHAIN_HEX_LEN] = '\0';
	struct strbuf store = STRBUF_INIT;
	size_t offs[64];
	rechain(lines, 13, n, 12, prev, &store, offs);
	for (size_t i = 13; i < n; i++)
		lines[i] = store.data + offs[i];
	/* a new last seal, with the stolen key: valid HMAC, valid chain */
	uint64_t seal_seq = 12 + (n - 13);
	char hmac[SEAL_HMAC_HEX_LEN + 1], detail[256];
	seal_hmac(stolen.key, stolen.epoch, seal_seq, prev, hmac);
	snprintf(detail, sizeof(detail), "reason=stop epoch=%" PRIu64 " head=%s hmac=%s",
		 stolen.epoch, prev, hmac);
	struct om_record r;
	om_record_init(&r, OM_EVENT_SEAL);
	r.time_ns = t + 5000;
	r.seq = seal_seq;
	r.detail = detail;
	struct strbuf seal = STRBUF_INIT;
	csv_encode(&seal, &r);
	seal.len--;
	chain_compute(prev, seal.data, seal.len, prev);
	sb_addc(&seal, ',');
	sb_add(&seal, prev, CHAIN_HEX_LEN);
	lines[n++] = seal.data;
	struct strbuf out = STRBUF_INIT;
	join_lines(&out, lines, n);
	lf_write(p, out.data, out.len);

	/* the chain and every HMAC are right; only the epochs give it away */
	CHECK_EQ_INT(verify_quiet(dir, key0, &res), 1);
	CHECK_EQ_INT(res.problems, 1);
	if (!strstr(res.first_problem, "epoch 3 where 1 was due"))
		TEST_FAIL_("unexpected: %s", res.first_problem);
	sb_free(&sb);
	sb_free(&store);
	sb_free(&seal);
	sb_free(&out);
	seal_key_wipe(&k);
	seal_key_wipe(&stolen);
	unlink(keyfile);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_seal_at_a_rotation_boundary)
{
	/* the stop seal (or an interval seal) can fall where the segment is full:
	 * the rotation must come first, or the seal would cover a head and a
	 * seq that the rotation's own seal then changes */
	for (int n = 20; n < 60; n++) {
		char *dir = lf_tmpdir();
		CHECK(dir);
		char keyfile[4096];
		snprintf(keyfile, sizeof(keyfile), "%s.key", dir);
		struct seal_key k;
		CHECK_EQ_INT(seal_key_generate(&k), 0);
		uint8_t key0[SEAL_KEY_LEN];
		memcpy(key0, k.key, SEAL_KEY_LEN);
		CHECK_EQ_INT(seal_key_store(keyfile, &k, NULL, 0), 0);
		CHECK_EQ_INT(make_log(dir, n, LOG_MIN_ROTATE_SIZE, keyfile), 0);
		struct verify_result res;
		int rc = verify_quiet(dir, key0, &res);
		if (rc != 0)
			TEST_FAIL_("%d records: %s", n, res.first_problem);
		seal_key_wipe(&k);
		unlink(keyfile);
		lf_rm_rf(dir);
		free(dir);
	}
}
