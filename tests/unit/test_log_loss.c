/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Loss is counted, not disguised (issue 8): a disk that refuses writes (here
 * RLIMIT_FSIZE with SIGXFSZ ignored, so that write() fails with EFBIG, cut
 * short first), a buffer that overflows with a SEAL in it, a stop that cannot
 * write its last records, and a sealing key that cannot be stored.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/seal.h"
#include "log/segment.h"
#include "log/verify.h"
#include "log/writer.h"
#include "log_fixture.h"
#include "test.h"
#include "util/strbuf.h"

#define T0 1795633997123456000ull /* 2026-11-25T19:13:17.123456Z */

static void event(struct log_writer *w, enum om_event e, uint64_t t, int i)
{
	struct om_record r;
	om_record_init(&r, e);
	r.time_ns = t;
	char exe[64];
	snprintf(exe, sizeof(exe), "/usr/bin/program-number-%06d", i);
	r.pid = e == OM_EVENT_EXEC ? 1000 + i : 42;
	if (e == OM_EVENT_EXEC) {
		r.ppid = 1;
		r.uid = 0;
		r.exe = exe;
		r.exe_len = strlen(exe);
	} else {
		r.detail = e == OM_EVENT_START ? "version=test" : "events=0";
	}
	log_writer_append(w, &r);
}

/* Files may grow to limit bytes (RLIM_INFINITY: no limit). */
static void file_limit(rlim_t limit)
{
	struct rlimit rl;
	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = limit;
	setrlimit(RLIMIT_FSIZE, &rl);
}

static int verify_to(const char *dir, const uint8_t *key0, struct verify_result *res,
		     struct strbuf *out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = log_verify(dir, key0, f, res);
	fclose(f);
	sb_reset(out);
	sb_add(out, text, len);
	free(text);
	return rc;
}

static int count_closed(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += strncmp(de->d_name, SEGMENT_PREFIX, strlen(SEGMENT_PREFIX)) == 0;
	if (d)
		closedir(d);
	return n;
}

static off_t file_size(const char *dir, const char *name)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	struct stat st;
	return stat(p, &st) == 0 ? st.st_size : -1;
}

static int new_key(const char *keyfile, uint8_t key0[SEAL_KEY_LEN])
{
	struct seal_key k;
	if (seal_key_generate(&k) != 0)
		return -1;
	memcpy(key0, k.key, SEAL_KEY_LEN);
	int rc = seal_key_store(keyfile, &k, NULL, 0);
	seal_key_wipe(&k);
	return rc;
}

static void full_disk_rotation(int *test_failed_, enum log_format format, bool sealed)
{
	/* every segment can take 3000 bytes (the limit is per file, like a disk
	 * that fills): rotation by size (8 KiB) must still happen, by a rename,
	 * giving up what the full segment could not take, counted and declared */
	signal(SIGXFSZ, SIG_IGN);
	char *dir = lf_tmpdir();
	CHECK(dir);
	char keyfile[4096];
	snprintf(keyfile, sizeof(keyfile), "%s.key", dir);
	uint8_t key0[SEAL_KEY_LEN];
	if (sealed)
		CHECK_EQ_INT(new_key(keyfile, key0), 0);
	struct log_writer_opts o;
	lf_opts(&o, 8192, sealed ? keyfile : NULL);
	o.format = format;
	const char *active = log_active_name(format);
	struct log_writer w;
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	uint64_t t = T0;
	event(&w, OM_EVENT_START, t, 0);
	CHECK_EQ_INT(log_writer_flush(&w), 0);
	file_limit(3000);
	int i = 0;
	for (; i < 600; i++) {
		event(&w, OM_EVENT_EXEC, t += 1000, i);
		if (i % 10 == 9)
			log_writer_flush(&w);
	}
	int closed_while_full = count_closed(dir);
	off_t active_size = file_size(dir, active);
	uint64_t lost_while_full = w.dropped;
	/* space comes back: everything after is written */
	file_limit(RLIM_INFINITY);
	for (; i < 620; i++)
		event(&w, OM_EVENT_EXEC, t += 1000, i);
	event(&w, OM_EVENT_STOP, t += 1000, 0);
	CHECK_EQ_INT(log_writer_sync(&w), 0);
	uint64_t dropped = w.dropped;
	log_writer_close(&w);

	if (closed_while_full < 3)
		TEST_FAIL_("%d segments closed while the disk refused writes (want >= 3)",
			   closed_while_full);
	CHECK(active_size >= 0 && active_size <= 3000);
	CHECK(lost_while_full > 0);
	struct verify_result res;
	struct strbuf out = STRBUF_INIT;
	int rc = verify_to(dir, sealed ? key0 : NULL, &res, &out);
	if (rc != 0)
		TEST_FAIL_("verify: %s\n%s", res.first_problem, out.data);
	CHECK_EQ_INT(res.unwritten, dropped);
	CHECK(res.losses >= 3);
	CHECK(!sealed || res.seals_checked >= 4);
	CHECK(strstr(out.data, "lost by the recorder (") != NULL);
	CHECK(strstr(out.data, "records lost by the recorder (counted)") != NULL);
	/* every seq is accounted for: written, or counted lost */
	CHECK_EQ_INT(res.records + res.unwritten, res.last_seq - res.first_seq + 1);
	sb_free(&out);
	unlink(keyfile);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_full_disk_rotates_by_rename_and_counts_loss)
{
	full_disk_rotation(test_failed_, LOG_FORMAT_CSV, false);
}

TEST(log_full_disk_rotation_sealed_jsonl)
{
	/* the new segment's first record is its SEAL: it declares the loss */
	full_disk_rotation(test_failed_, LOG_FORMAT_JSONL, true);
}

TEST(log_stop_on_full_disk_declared_by_next_start)
{
	signal(SIGXFSZ, SIG_IGN);
	char *dir = lf_tmpdir();
	CHECK(dir);
	struct log_writer_opts o;
	lf_opts(&o, 0, NULL);
	struct log_writer w;
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	uint64_t t = T0;
	event(&w, OM_EVENT_START, t, 0);
	for (int i = 0; i < 10; i++)
		event(&w, OM_EVENT_EXEC, t += 1000, i);
	CHECK_EQ_INT(log_writer_flush(&w), 0);
	/* seqs 0..10 are on disk; the disk now refuses the rest, cut short */
	off_t size = file_size(dir, "onmitsu.csv");
	file_limit((rlim_t)size + 50);
	for (int i = 10; i < 20; i++)
		event(&w, OM_EVENT_EXEC, t += 1000, i);
	event(&w, OM_EVENT_STOP, t += 1000, 0); /* seq 21 */
	CHECK(log_writer_sync(&w) != 0);
	log_writer_close(&w);
	file_limit(RLIM_INFINITY);
	/* the torn line was cut: the log ends at seq 10 */
	CHECK_EQ_INT(file_size(dir, "onmitsu.csv"), size);

	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	CHECK(w.prev_unwritten);
	CHECK_EQ_INT(w.next_seq, 22);
	struct strbuf d = STRBUF_INIT;
	sb_adds(&d, "version=test");
	log_writer_start_detail(&w, &d, t + 1000000);
	CHECK(strstr(d.data, "previous_end=stop") != NULL);
	struct om_record r;
	om_record_init(&r, OM_EVENT_START);
	r.time_ns = t += 1000000;
	r.detail = d.data;
	log_writer_append(&w, &r);
	CHECK_EQ_INT(r.seq, 22);
	event(&w, OM_EVENT_STOP, t += 1000, 0);
	CHECK_EQ_INT(log_writer_sync(&w), 0);
	log_writer_close(&w);
	sb_free(&d);

	struct verify_result res;
	struct strbuf out = STRBUF_INIT;
	int rc = verify_to(dir, NULL, &res, &out);
	if (rc != 0)
		TEST_FAIL_("verify: %s\n%s", res.first_problem, out.data);
	CHECK_EQ_INT(res.unwritten, 11);
	CHECK(strstr(out.data, "records seq 11..21: lost by the recorder (11 records, counted)") !=
	      NULL);
	/* the state file was used once: a third run declares nothing */
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	CHECK(!w.prev_unwritten);
	CHECK_EQ_INT(w.next_seq, 24);
	log_writer_close(&w);
	sb_free(&out);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_stop_after_full_rotation_counts_from_the_disk)
{
	/* a rotation on a full disk gives records up and the new segment's
	 * first record declares them; when that record cannot be written
	 * either, the stop's count starts at the first record not on disk */
	signal(SIGXFSZ, SIG_IGN);
	char *dir = lf_tmpdir();
	CHECK(dir);
	struct log_writer_opts o;
	lf_opts(&o, 8192, NULL);
	struct log_writer w;
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	uint64_t t = T0;
	event(&w, OM_EVENT_START, t, 0);
	int i = 0;
	while (file_size(dir, "onmitsu.csv") < 6000) {
		event(&w, OM_EVENT_EXEC, t += 1000, i++);
		CHECK_EQ_INT(log_writer_flush(&w), 0);
	}
	uint64_t on_disk_next = w.next_seq;
	file_limit((rlim_t)file_size(dir, "onmitsu.csv"));
	while (count_closed(dir) == 0 && i < 1000)
		event(&w, OM_EVENT_EXEC, t += 1000, i++);
	CHECK_EQ_INT(count_closed(dir), 1);
	/* the new segment holds its header; the declaration waits in memory */
	file_limit((rlim_t)file_size(dir, "onmitsu.csv"));
	for (int j = 0; j < 5; j++)
		event(&w, OM_EVENT_EXEC, t += 1000, i++);
	event(&w, OM_EVENT_STOP, t += 1000, 0);
	uint64_t last = w.next_seq - 1;
	CHECK(log_writer_sync(&w) != 0);
	log_writer_close(&w);
	file_limit(RLIM_INFINITY);

	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	CHECK(w.prev_unwritten);
	CHECK_EQ_INT(w.unwritten_first, on_disk_next);
	CHECK_EQ_INT(w.next_seq, last + 1);
	event(&w, OM_EVENT_START, t += 1000000, 0);
	event(&w, OM_EVENT_STOP, t += 1000, 0);
	CHECK_EQ_INT(log_writer_sync(&w), 0);
	log_writer_close(&w);
	struct verify_result res;
	struct strbuf out = STRBUF_INIT;
	int rc = verify_to(dir, NULL, &res, &out);
	if (rc != 0)
		TEST_FAIL_("verify: %s\n%s", res.first_problem, out.data);
	CHECK_EQ_INT(res.unwritten, last - on_disk_next + 1);
	CHECK_EQ_INT(res.records + res.unwritten, res.last_seq - res.first_seq + 1);
	sb_free(&out);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_state_file_not_regular_is_refused)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, LOG_STATE_NAME);
	CHECK_EQ_INT(mkfifo(p, 0600), 0);
	struct log_writer_opts o;
	lf_opts(&o, 0, NULL);
	struct log_writer w;
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), -1);
	log_writer_close(&w);
	unlink(p);
	CHECK_EQ_INT(symlink("/etc/passwd", p), 0);
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), -1);
	log_writer_close(&w);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_dropped_seal_is_counted_loss_not_reseal)
{
	/* the disk refuses writes, the buffer overflows, an interval SEAL is
	 * dropped (its epoch used up): verify names the writer's loss */
	signal(SIGXFSZ, SIG_IGN);
	char *dir = lf_tmpdir();
	CHECK(dir);
	char keyfile[4096];
	snprintf(keyfile, sizeof(keyfile), "%s.key", dir);
	uint8_t key0[SEAL_KEY_LEN];
	CHECK_EQ_INT(new_key(keyfile, key0), 0);
	struct log_writer_opts o;
	lf_opts(&o, 0, keyfile);
	o.buffer_max = 4096;
	struct log_writer w;
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	uint64_t t = T0;
	event(&w, OM_EVENT_START, t, 0);
	for (int i = 0; i < 5; i++)
		event(&w, OM_EVENT_EXEC, t += 1000, i);
	log_writer_seal(&w, "interval", t += 1000); /* epoch 0 */
	CHECK_EQ_INT(log_writer_flush(&w), 0);
	file_limit((rlim_t)file_size(dir, "onmitsu.csv"));
	int i = 5;
	for (; w.dropped == 0 && i < 1000; i++)
		event(&w, OM_EVENT_EXEC, t += 1000, i);
	log_writer_seal(&w, "interval", t += 1000); /* epoch 1: dropped */
	for (int j = 0; j < 5; j++, i++)
		event(&w, OM_EVENT_EXEC, t += 1000, i);
	CHECK_EQ_INT(w.seals, 2);
	CHECK(w.dropped >= 7);
	file_limit(RLIM_INFINITY);
	CHECK_EQ_INT(log_writer_flush(&w), 0);
	for (int j = 0; j < 5; j++, i++)
		event(&w, OM_EVENT_EXEC, t += 1000, i);
	log_writer_seal(&w, "interval", t += 1000); /* epoch 2 */
	event(&w, OM_EVENT_STOP, t += 1000, 0);
	uint64_t dropped = w.dropped;
	log_writer_close(&w); /* epoch 3 */

	struct verify_result res;
	struct strbuf out = STRBUF_INIT;
	int rc = verify_to(dir, key0, &res, &out);
	if (rc != 0)
		TEST_FAIL_("verify: %s\n%s", res.first_problem, out.data);
	CHECK_EQ_INT(res.unwritten, dropped);
	CHECK_EQ_INT(res.seals_checked, 3);
	CHECK(strstr(out.data, "lost by the recorder (") != NULL);
	CHECK(strstr(out.data, "re-sealed") == NULL);
	CHECK(strstr(out.data, "epochs 1..1 were among the records the recorder lost") != NULL);
	sb_free(&out);
	unlink(keyfile);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_unstorable_sealing_key_stops_sealing_and_fails_verify)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	char keyfile[4096], keynew[4200];
	snprintf(keyfile, sizeof(keyfile), "%s.key", dir);
	snprintf(keynew, sizeof(keynew), "%s.new", keyfile);
	uint8_t key0[SEAL_KEY_LEN];
	CHECK_EQ_INT(new_key(keyfile, key0), 0);
	struct log_writer_opts o;
	lf_opts(&o, 0, keyfile);
	struct log_writer w;
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	uint64_t t = T0;
	event(&w, OM_EVENT_START, t, 0);
	for (int i = 0; i < 5; i++)
		event(&w, OM_EVENT_EXEC, t += 1000, i);
	log_writer_seal(&w, "interval", t += 1000); /* epoch 0, seq 6 */
	/* the key file's temporary cannot be made: the next key cannot be stored */
	CHECK_EQ_INT(mkdir(keynew, 0700), 0);
	for (int i = 5; i < 10; i++)
		event(&w, OM_EVENT_EXEC, t += 1000, i);
	log_writer_seal(&w, "interval", t += 1000); /* seq 12: reason=failed */
	CHECK(!w.sealing);
	for (int i = 10; i < 15; i++)
		event(&w, OM_EVENT_EXEC, t += 1000, i);
	event(&w, OM_EVENT_STOP, t += 1000, 0); /* seq 18 */
	log_writer_close(&w);
	rmdir(keynew);
	struct seal_key k;
	char err[256];
	CHECK_EQ_INT(seal_key_load(keyfile, &k, err, sizeof(err)), 0);
	CHECK_EQ_INT(k.epoch, 1); /* epoch 1 was never used for a seal */
	seal_key_wipe(&k);

	struct verify_result res;
	struct strbuf out = STRBUF_INIT;
	CHECK_EQ_INT(verify_to(dir, key0, &res, &out), 1);
	CHECK_EQ_INT(res.problems, 1);
	if (!strstr(res.first_problem, "could not store its evolved sealing key") ||
	    !strstr(res.first_problem, "records seq 12..18 are not sealed"))
		TEST_FAIL_("unexpected: %s", res.first_problem);

	/* the next run, with a key it can store, seals from epoch 1: only the
	 * stretch before it stays failed */
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	event(&w, OM_EVENT_START, t += 1000000, 0);
	for (int i = 0; i < 5; i++)
		event(&w, OM_EVENT_EXEC, t += 1000, i);
	event(&w, OM_EVENT_STOP, t += 1000, 0);
	log_writer_close(&w);
	CHECK_EQ_INT(verify_to(dir, key0, &res, &out), 1);
	if (res.problems != 1)
		TEST_FAIL_("%" PRIu64 " problems:\n%s", res.problems, out.data);
	CHECK(strstr(res.first_problem, "records seq 12..18 are not sealed") != NULL);
	CHECK_EQ_INT(res.seals_checked, 2);
	sb_free(&out);
	unlink(keyfile);
	lf_rm_rf(dir);
	free(dir);
}
