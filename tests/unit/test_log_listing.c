/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verify checks exactly what the queries read (issue 8): files dropped into
 * the log directory that look like segments, and the first record kept after
 * older segments expired.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/chain.h"
#include "log/csv.h"
#include "log/segment.h"
#include "log_fixture.h"
#include "query/reader.h"
#include "test.h"

/* A record no one made, as a line of a self-consistent log chained from the
 * seed: header, then an EXEC of /tmp/evil by pid 31337 at seq `seq`. */
static void forged_log(struct strbuf *out, const char *header, uint64_t seq)
{
	sb_reset(out);
	sb_adds(out, header);
	sb_addc(out, '\n');
	struct om_record r;
	om_record_init(&r, OM_EVENT_EXEC);
	r.time_ns = LF_T0 + 5000000000ull;
	r.seq = seq;
	r.pid = 31337;
	r.ppid = 1;
	r.exe = "/tmp/evil";
	r.exe_len = strlen(r.exe);
	r.args = "/tmp/evil\0";
	r.args_len = 10;
	r.has_cmdline = true;
	struct strbuf line = STRBUF_INIT;
	csv_encode(&line, &r);
	line.len--; /* its "\n" */
	char c[CHAIN_HEX_LEN + 1];
	chain_compute(CHAIN_SEED, line.data, line.len, c);
	sb_add(out, line.data, line.len);
	sb_addc(out, ',');
	sb_adds(out, c);
	sb_addc(out, '\n');
	sb_free(&line);
}

/* Every record the query commands read from dir: how many have pid 31337. */
static int forged_records_read(const char *dir, int *total)
{
	struct log_reader_opts opts = {.single_thread = true, .quiet = true};
	char err[512];
	struct log_reader *r = log_reader_open(dir, &opts, err, sizeof(err));
	if (!r)
		return -1;
	struct log_record rec;
	int forged = 0;
	*total = 0;
	while (log_reader_next(r, &rec) > 0) {
		(*total)++;
		if (strcmp(rec.f[COL_PID], "31337") == 0)
			forged++;
	}
	log_reader_close(r);
	return forged;
}

TEST(log_listing_forged_files_are_reported_and_not_read)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	char keyfile[4096];
	uint8_t key0[SEAL_KEY_LEN];
	CHECK_EQ_INT(lf_keygen(dir, keyfile, sizeof(keyfile), key0), 0);
	CHECK_EQ_INT(lf_run(dir, LF_T0, 0, 100, LOG_MIN_ROTATE_SIZE, keyfile, false), 0);
	struct verify_result res;
	CHECK_EQ_INT(lf_verify(dir, key0, &res, NULL), 0);
	char **paths;
	int nseg = log_segments(dir, &paths);
	log_segments_free(paths);
	CHECK(nseg >= 3);
	int total_before;
	CHECK_EQ_INT(forged_records_read(dir, &total_before), 0);

	char p[4096], q[4096];
	snprintf(p, sizeof(p), "%s/onmitsu.csv", dir);
	struct strbuf active = STRBUF_INIT, forged = STRBUF_INIT;
	CHECK_EQ_INT(lf_read(p, &active), 0);
	*strchr(active.data, '\n') = '\0'; /* the header line */
	forged_log(&forged, active.data, 5000);
	/* a forged segment by a name of its own */
	snprintf(p, sizeof(p), "%s/onmitsu-forged.csv", dir);
	CHECK_EQ_INT(lf_write(p, forged.data, forged.len), 0);
	/* a link by a segment's very name, to a file outside the directory */
	snprintf(q, sizeof(q), "%s.outside.csv", dir);
	CHECK_EQ_INT(lf_write(q, forged.data, forged.len), 0);
	snprintf(p, sizeof(p), "%s/onmitsu-20261125T191322.123456Z-000000005000.csv", dir);
	CHECK(symlink(q, p) == 0);
	/* a FIFO where a segment would be (reading it would hang) */
	snprintf(p, sizeof(p), "%s/onmitsu-20261125T191323.123456Z-000000006000.csv", dir);
	CHECK(mkfifo(p, 0600) == 0);
	/* a segment of the other format, by a good name */
	snprintf(p, sizeof(p), "%s/onmitsu-20261125T191324.123456Z-000000007000.jsonl", dir);
	CHECK_EQ_INT(lf_write(p, "{}\n", 3), 0);
	/* a name that would break a report's lines */
	snprintf(p, sizeof(p), "%s/onmitsu-x\n.csv", dir);
	CHECK_EQ_INT(lf_write(p, forged.data, forged.len), 0);

	/* the queries read what they read before, and name what they leave */
	char *warnings = NULL;
	size_t wlen = 0;
	FILE *saved = stderr;
	stderr = open_memstream(&warnings, &wlen);
	CHECK_EQ_INT(log_segments(dir, &paths), nseg);
	int total;
	int n_forged = forged_records_read(dir, &total);
	fclose(stderr);
	stderr = saved;
	for (int i = 0; i < nseg; i++)
		CHECK(strstr(paths[i], "5000") == NULL && strstr(paths[i], "forged") == NULL);
	log_segments_free(paths);
	CHECK_EQ_INT(n_forged, 0);
	CHECK_EQ_INT(total, total_before);
	CHECK(strstr(warnings, "/onmitsu-forged.csv is not part of the log: not a name") != NULL);
	CHECK(strstr(warnings, "-000000005000.csv is not part of the log: a symbolic link") !=
	      NULL);
	CHECK(strstr(warnings, "-000000006000.csv is not part of the log: a FIFO") != NULL);
	CHECK(strstr(warnings, "-000000007000.jsonl is not part of the log: a JSON Lines "
			       "segment in a CSV log") != NULL);
	CHECK(strstr(warnings, "/onmitsu-x\\x0a.csv is not part of the log") != NULL);
	free(warnings);

	/* verify names each and fails: they are evidence of tampering */
	char *report;
	CHECK_EQ_INT(lf_verify(dir, key0, &res, &report), 1);
	CHECK_EQ_INT(res.problems, 5);
	CHECK(strstr(report, "BAD onmitsu-forged.csv: not part of the log: not a name") != NULL);
	CHECK(strstr(report, "-000000005000.csv: not part of the log: a symbolic link") != NULL);
	CHECK(strstr(report, "-000000006000.csv: not part of the log: a FIFO") != NULL);
	CHECK(strstr(report, "-000000007000.jsonl: not part of the log: a JSON Lines") != NULL);
	CHECK(strstr(report, "BAD onmitsu-x\\x0a.csv: not part of the log") != NULL);
	CHECK(strstr(report, "NOT INTACT: 5 problems") != NULL);
	free(report);

	/* taken away, the log is intact again */
	snprintf(p, sizeof(p), "%s/onmitsu-forged.csv", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/onmitsu-20261125T191322.123456Z-000000005000.csv", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/onmitsu-20261125T191323.123456Z-000000006000.csv", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/onmitsu-20261125T191324.123456Z-000000007000.jsonl", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/onmitsu-x\n.csv", dir);
	unlink(p);
	CHECK_EQ_INT(lf_verify(dir, key0, &res, NULL), 0);
	unlink(q);
	unlink(keyfile);
	sb_free(&active);
	sb_free(&forged);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_listing_only_forged_files_is_not_intact)
{
	/* nothing but a forged file: not "no log", but tampering */
	char *dir = lf_tmpdir();
	CHECK(dir);
	char p[4096];
	snprintf(p, sizeof(p), "%s/onmitsu-1.csv", dir);
	CHECK_EQ_INT(lf_write(p, "x\n", 2), 0);
	struct verify_result res;
	char *report;
	CHECK_EQ_INT(lf_verify(dir, NULL, &res, &report), 1);
	CHECK(strstr(report, "onmitsu-1.csv: not part of the log") != NULL);
	free(report);
	lf_rm_rf(dir);
	free(dir);
}

/* The lines of path, NUL-terminated in sb; returns how many. */
static size_t lines_of(const char *path, struct strbuf *sb, char **lines, size_t max)
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

static int write_lines(const char *path, char **lines, size_t n)
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

/* The first segment of dir after the older ones expired: each record of it,
 * one at a time, gets one digit of its time changed; verify --key must fail
 * every time. Returns how many of the n records went unnoticed. */
static int edits_unnoticed(const char *dir, const char *name, const uint8_t *key0, int *n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct strbuf orig = STRBUF_INIT, sb = STRBUF_INIT;
	lf_read(path, &orig);
	char *lines[4096];
	size_t nl = lines_of(path, &sb, lines, 4096);
	int unnoticed = 0;
	*n = 0;
	for (size_t i = 1; i < nl; i++) {
		char *us = strchr(lines[i], 'Z'); /* ...T19:13:17.123456Z */
		if (!us || us - lines[i] < 1)
			continue;
		char was = us[-1];
		us[-1] = was == '9' ? '0' : (char)(was + 1);
		write_lines(path, lines, nl);
		us[-1] = was;
		struct verify_result res;
		if (lf_verify(dir, key0, &res, NULL) == 0) {
			fprintf(stderr, "  %s:%zu: edited, and verify says intact\n", name, i + 1);
			unnoticed++;
		}
		(*n)++;
	}
	lf_write(path, orig.data, orig.len);
	sb_free(&orig);
	sb_free(&sb);
	return unnoticed;
}

/* Remove every closed segment before the one whose name is `keep` (what
 * retention does). */
static void expire_before(const char *dir, const char *keep)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct segment_info *segs;
	int n = segment_list(dfd, &segs);
	for (int i = 0; i < n && strcmp(segs[i].name, keep) != 0; i++)
		unlinkat(dfd, segs[i].name, 0);
	if (n >= 0)
		free(segs);
	close(dfd);
}

TEST(log_first_kept_segment_begun_by_a_restart_is_covered)
{
	/* a run that crashed, then a run in a segment of its own that begins
	 * with START; the crashed run's segment expires. Every record of the
	 * new first segment, START included, is still checked. */
	char *dir = lf_tmpdir();
	CHECK(dir);
	char keyfile[4096];
	uint8_t key0[SEAL_KEY_LEN];
	CHECK_EQ_INT(lf_keygen(dir, keyfile, sizeof(keyfile), key0), 0);
	CHECK_EQ_INT(lf_run(dir, LF_T0, 0, 10, 0, keyfile, true), 0);
	CHECK_EQ_INT(lf_run(dir, LF_T0 + 60000000000ull, 10, 10, 0, keyfile, false), 0);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct segment_info *segs;
	CHECK_EQ_INT(segment_list(dfd, &segs), 2); /* the crashed one, the new run's */
	close(dfd);
	free(segs);
	struct verify_result res;
	CHECK_EQ_INT(lf_verify(dir, key0, &res, NULL), 0);
	expire_before(dir, "onmitsu.csv");
	char *report;
	CHECK_EQ_INT(lf_verify(dir, key0, &res, &report), 0);
	CHECK_EQ_INT(res.first_seq, 11); /* the new run's START */
	free(report);
	int n;
	CHECK_EQ_INT(edits_unnoticed(dir, "onmitsu.csv", key0, &n), 0);
	CHECK_EQ_INT(n, 13); /* START, 10 EXEC, STOP, SEAL */

	/* START edited and its chain value made to match the edit: the records
	 * after it no longer link */
	char path[4096];
	snprintf(path, sizeof(path), "%s/onmitsu.csv", dir);
	struct strbuf orig = STRBUF_INIT, sb = STRBUF_INIT;
	lf_read(path, &orig);
	char *lines[64];
	size_t nl = lines_of(path, &sb, lines, 64);
	CHECK(strstr(lines[1], ",START,") != NULL);
	char *v = strstr(lines[1], "version=test");
	CHECK(v != NULL);
	v[8] = 'b'; /* version=best */
	char *comma = strrchr(lines[1], ',');
	/* the detail is the last field but chain: take the 64 digits */
	char prev[CHAIN_HEX_LEN + 8];
	CHECK(detail_get(strstr(lines[1], "version="), "previous_chain", prev, sizeof(prev)));
	prev[CHAIN_HEX_LEN] = '\0';
	CHECK(chain_hex_valid(prev, CHAIN_HEX_LEN));
	chain_compute(prev, lines[1], (size_t)(comma - lines[1]), comma + 1);
	write_lines(path, lines, nl);
	CHECK_EQ_INT(lf_verify(dir, key0, &res, NULL), 1);
	/* the block after START, to STOP, no longer links (0.3: the chain value
	 * is written on checkpoints only, so verify names the block) */
	CHECK(strstr(res.first_problem, "onmitsu.csv:3..13 (records seq 12..22): edited") != NULL);

	/* a START that does not name the value before it (an older recorder's,
	 * or stripped of it) cannot be checked: with the key, that fails */
	lf_write(path, orig.data, orig.len);
	nl = lines_of(path, &sb, lines, 64);
	char *pc = strstr(lines[1], " previous_chain=");
	CHECK(pc != NULL);
	memmove(pc, pc + 16 + CHAIN_HEX_LEN, strlen(pc + 16 + CHAIN_HEX_LEN) + 1);
	write_lines(path, lines, nl);
	CHECK_EQ_INT(lf_verify(dir, key0, &res, NULL), 1);
	CHECK(strstr(res.first_problem, "does not name the chain value before it") != NULL);
	CHECK_EQ_INT(lf_verify(dir, NULL, &res, NULL), 0); /* without a key: a note */
	sb_free(&orig);
	sb_free(&sb);
	unlink(keyfile);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_first_kept_segment_after_rotation_is_covered)
{
	/* rotation: the oldest kept segment begins with the rotation's SEAL */
	char *dir = lf_tmpdir();
	CHECK(dir);
	char keyfile[4096];
	uint8_t key0[SEAL_KEY_LEN];
	CHECK_EQ_INT(lf_keygen(dir, keyfile, sizeof(keyfile), key0), 0);
	CHECK_EQ_INT(lf_run(dir, LF_T0, 0, 100, LOG_MIN_ROTATE_SIZE, keyfile, false), 0);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct segment_info *segs;
	int nseg = segment_list(dfd, &segs);
	close(dfd);
	CHECK(nseg >= 3);
	char keep[SEGMENT_NAME_MAX];
	snprintf(keep, sizeof(keep), "%s", segs[1].name);
	free(segs);
	expire_before(dir, keep);
	struct verify_result res;
	CHECK_EQ_INT(lf_verify(dir, key0, &res, NULL), 0);
	int n;
	CHECK_EQ_INT(edits_unnoticed(dir, keep, key0, &n), 0);
	CHECK(n > 2);
	unlink(keyfile);
	lf_rm_rf(dir);
	free(dir);
}
