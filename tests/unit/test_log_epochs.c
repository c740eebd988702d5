/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Roll-back (issue 8): a log cut back to an earlier clean stop, a whole later
 * run removed. Every seal and the chain of what is left check out; what gives
 * it away is the epoch of the host's sealing key (verify --seal-key), an epoch
 * seen off the host (--min-epoch), or a later run's START.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "log/segment.h"
#include "log_fixture.h"
#include "test.h"

static int verify_epochs(const char *dir, const uint8_t *key0, int key_epoch, int min_epoch,
			 struct verify_result *res)
{
	struct verify_opts o = {.key0 = key0};
	if (key_epoch >= 0) {
		o.have_key_epoch = true;
		o.key_epoch = (uint64_t)key_epoch;
	}
	if (min_epoch >= 0) {
		o.have_min_epoch = true;
		o.min_epoch = (uint64_t)min_epoch;
	}
	FILE *devnull = fopen("/dev/null", "we");
	int rc = log_verify_opts(dir, &o, devnull, res);
	fclose(devnull);
	return rc;
}

static int key_epoch_of(const char *keyfile)
{
	struct seal_key k;
	char err[256];
	if (seal_key_load(keyfile, &k, err, sizeof(err)) != 0)
		return -1;
	int e = (int)k.epoch;
	seal_key_wipe(&k);
	return e;
}

/* The names of dir's closed segments, joined by "/". */
static void closed_names(const char *dir, struct strbuf *out)
{
	sb_reset(out);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct segment_info *segs;
	int n = segment_list(dfd, &segs);
	for (int i = 0; i < n; i++)
		if (!segs[i].active) {
			sb_adds(out, segs[i].name);
			sb_addc(out, '/');
		}
	if (n >= 0)
		free(segs);
	close(dfd);
}

TEST(log_rollback_to_an_earlier_stop_is_found)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	char keyfile[4096], p[4096];
	uint8_t key0[SEAL_KEY_LEN];
	CHECK_EQ_INT(lf_keygen(dir, keyfile, sizeof(keyfile), key0), 0);
	/* run 1, a clean stop; keep the state it left */
	CHECK_EQ_INT(lf_run(dir, LF_T0, 0, 40, LOG_MIN_ROTATE_SIZE, keyfile, false), 0);
	snprintf(p, sizeof(p), "%s/onmitsu.csv", dir);
	struct strbuf then = STRBUF_INIT, names_then = STRBUF_INIT, names = STRBUF_INIT;
	CHECK_EQ_INT(lf_read(p, &then), 0);
	closed_names(dir, &names_then);
	int e1 = key_epoch_of(keyfile);
	CHECK(e1 >= 2);
	struct verify_result res;
	/* the key file is one epoch past the last seal after a clean stop */
	CHECK_EQ_INT(verify_epochs(dir, key0, e1, e1 - 1, &res), 0);
	CHECK_EQ_INT(verify_epochs(dir, key0, e1 + 1, -1, &res), 1);
	CHECK_EQ_INT(verify_epochs(dir, key0, e1 - 1, -1, &res), 1);
	CHECK(strstr(res.first_problem, "was not updated after sealing, or was restored") != NULL);

	/* run 2, with rotations too */
	CHECK_EQ_INT(
	    lf_run(dir, LF_T0 + 60000000000ull, 100, 40, LOG_MIN_ROTATE_SIZE, keyfile, false), 0);
	int e2 = key_epoch_of(keyfile);
	CHECK(e2 > e1 + 1);
	CHECK_EQ_INT(verify_epochs(dir, key0, e2, e2 - 1, &res), 0);

	/* cut back to the end of run 1: its segments removed, the active one
	 * as it was */
	closed_names(dir, &names);
	for (char *n = names.data, *slash; n && (slash = strchr(n, '/')); n = slash + 1) {
		*slash = '\0';
		char needle[SEGMENT_NAME_MAX + 2];
		snprintf(needle, sizeof(needle), "%s/", n);
		if (!strstr(names_then.data, needle)) {
			char q[4096];
			snprintf(q, sizeof(q), "%s/%s", dir, n);
			CHECK(unlink(q) == 0);
		}
	}
	CHECK_EQ_INT(lf_write(p, then.data, then.len), 0);
	/* chain, seals, the end: all as after run 1 */
	CHECK_EQ_INT(verify_epochs(dir, key0, -1, -1, &res), 0);
	/* the host's key is past it */
	CHECK_EQ_INT(verify_epochs(dir, key0, e2, -1, &res), 1);
	CHECK_EQ_INT(res.problems, 1);
	char want[200];
	snprintf(
	    want, sizeof(want),
	    "the sealing key is at epoch %d but the log's last seal has epoch %d: the seals of "
	    "epochs %d..%d are not in the log (it was cut back",
	    e2, e1 - 1, e1, e2 - 1);
	if (!strstr(res.first_problem, want))
		TEST_FAIL_("unexpected: %s", res.first_problem);
	/* so is the last seal seen off the host */
	CHECK_EQ_INT(verify_epochs(dir, key0, -1, e2 - 1, &res), 1);
	CHECK(strstr(res.first_problem, "was seen (--min-epoch): the log was cut back") != NULL);
	CHECK_EQ_INT(verify_epochs(dir, key0, -1, e1 - 1, &res), 0);

	/* recording resumed on the cut-back log: its START names the key's
	 * epoch, which does not follow the stop's seal; then even verify
	 * without --seal-key finds it */
	CHECK_EQ_INT(lf_run(dir, LF_T0 + 120000000000ull, 200, 5, 0, keyfile, false), 0);
	CHECK_EQ_INT(verify_epochs(dir, key0, key_epoch_of(keyfile), -1, &res), 1);
	snprintf(want, sizeof(want),
		 "START with sealing key epoch %d right after a clean stop sealed with epoch %d",
		 e2, e1 - 1);
	if (!strstr(res.first_problem, want))
		TEST_FAIL_("unexpected: %s", res.first_problem);
	CHECK_EQ_INT(verify_epochs(dir, key0, -1, -1, &res), 1);
	sb_free(&then);
	sb_free(&names_then);
	sb_free(&names);
	unlink(keyfile);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_seal_key_epoch_while_recording)
{
	/* a recorder at work (it holds the lock): the key is one past the last
	 * seal written, or two when a seal is computed and not yet written */
	char *dir = lf_tmpdir();
	CHECK(dir);
	char keyfile[4096];
	uint8_t key0[SEAL_KEY_LEN];
	CHECK_EQ_INT(lf_keygen(dir, keyfile, sizeof(keyfile), key0), 0);
	struct log_writer_opts o;
	lf_opts(&o, 0, keyfile);
	struct log_writer w;
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	uint64_t t = LF_T0;
	lf_append(&w, OM_EVENT_START, t, 0);
	for (int i = 0; i < 5; i++)
		lf_append(&w, OM_EVENT_EXEC, t += 1000, i);
	log_writer_seal(&w, "interval", t += 1000);
	for (int i = 0; i < 5; i++)
		lf_append(&w, OM_EVENT_EXEC, t += 1000, 10 + i);
	log_writer_seal(&w, "interval", t += 1000); /* epoch 1 */
	/* the results are checked once the writer is closed: a CHECK returns */
	int flushed = log_writer_flush(&w);
	struct verify_result res;
	int rc_written = verify_epochs(dir, key0, key_epoch_of(keyfile), -1, &res);
	bool running = res.running;
	int epoch_written = key_epoch_of(keyfile);
	lf_append(&w, OM_EVENT_EXEC, t += 1000, 20);
	log_writer_seal(&w, "interval", t += 1000); /* epoch 2: in the buffer only */
	int epoch_computed = key_epoch_of(keyfile);
	int rc_computed = verify_epochs(dir, key0, 3, -1, &res);
	/* more than that is missing */
	int rc_more = verify_epochs(dir, key0, 4, -1, &res);
	char why_more[512];
	snprintf(why_more, sizeof(why_more), "%s", res.first_problem);
	/* sealed after the key file was read */
	int rc_behind = verify_epochs(dir, key0, 1, -1, &res);
	lf_append(&w, OM_EVENT_STOP, t += 1000, 0);
	log_writer_close(&w); /* writes epochs 2 and (stop) 3 */
	CHECK_EQ_INT(flushed, 0);
	CHECK_EQ_INT(rc_written, 0);
	CHECK(running);
	CHECK_EQ_INT(epoch_written, 2);
	CHECK_EQ_INT(epoch_computed, 3);
	CHECK_EQ_INT(rc_computed, 0);
	CHECK_EQ_INT(rc_more, 1);
	CHECK(strstr(why_more, "the seals of epochs 2..3 are not in the log") != NULL);
	CHECK_EQ_INT(rc_behind, 0);
	CHECK_EQ_INT(key_epoch_of(keyfile), 4);
	CHECK_EQ_INT(verify_epochs(dir, key0, 4, 3, &res), 0);
	CHECK(!res.running);
	/* stopped: exactly one past the stop's seal */
	CHECK_EQ_INT(verify_epochs(dir, key0, 5, -1, &res), 1);
	CHECK_EQ_INT(verify_epochs(dir, key0, 3, -1, &res), 1);
	CHECK_EQ_INT(verify_epochs(dir, key0, -1, 4, &res), 1);
	unlink(keyfile);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_seal_key_epoch_without_seals)
{
	/* a key that sealed nothing, a log without seals: nothing missing; a key
	 * that sealed: every seal is missing */
	char *dir = lf_tmpdir();
	CHECK(dir);
	CHECK_EQ_INT(lf_run(dir, LF_T0, 0, 3, 0, NULL, false), 0);
	struct verify_result res;
	CHECK_EQ_INT(verify_epochs(dir, NULL, 0, -1, &res), 0);
	CHECK_EQ_INT(verify_epochs(dir, NULL, 7, -1, &res), 1);
	CHECK(strstr(res.first_problem, "holds no seal: the seals of epochs 0..6 are missing") !=
	      NULL);
	CHECK_EQ_INT(verify_epochs(dir, NULL, -1, 0, &res), 1);
	lf_rm_rf(dir);
	free(dir);
}

TEST(log_seal_key_epoch_of_a_run_not_sealed_yet)
{
	/* a key that sealed another log before (epoch 5), a new log: until the
	 * run's first seal, its START names the epoch the key file is at */
	char *dir = lf_tmpdir();
	CHECK(dir);
	char keyfile[4096];
	snprintf(keyfile, sizeof(keyfile), "%s.key", dir);
	struct seal_key k;
	CHECK_EQ_INT(seal_key_generate(&k), 0);
	uint8_t key0[SEAL_KEY_LEN];
	memcpy(key0, k.key, SEAL_KEY_LEN);
	for (int i = 0; i < 5; i++)
		seal_key_evolve(&k);
	CHECK_EQ_INT(seal_key_store(keyfile, &k, NULL, 0), 0);
	seal_key_wipe(&k);
	struct log_writer_opts o;
	lf_opts(&o, 0, keyfile);
	struct log_writer w;
	CHECK_EQ_INT(log_writer_open(&w, dir, &o), 0);
	lf_append(&w, OM_EVENT_START, LF_T0, 0);
	lf_append(&w, OM_EVENT_EXEC, LF_T0 + 1000, 1);
	int flushed = log_writer_flush(&w);
	/* (no key: verify --key wants a seal in the log, and this run has none
	 * yet; the key file's epoch is checked either way) */
	struct verify_result res;
	int rc_due = verify_epochs(dir, NULL, 5, -1, &res);
	bool running = res.running;
	int rc_ahead = verify_epochs(dir, NULL, 7, -1, &res);
	char why[512];
	snprintf(why, sizeof(why), "%s", res.first_problem);
	lf_append(&w, OM_EVENT_STOP, LF_T0 + 2000, 0);
	log_writer_close(&w);
	CHECK_EQ_INT(flushed, 0);
	CHECK_EQ_INT(rc_due, 0);
	CHECK(running);
	CHECK_EQ_INT(rc_ahead, 1);
	CHECK(strstr(why, "but the log's last START names epoch 5: the seals of epochs 5..6 are "
			  "not in the log") != NULL);
	CHECK_EQ_INT(verify_epochs(dir, key0, key_epoch_of(keyfile), 5, &res), 0);
	CHECK_EQ_INT(key_epoch_of(keyfile), 6);
	unlink(keyfile);
	lf_rm_rf(dir);
	free(dir);
}
