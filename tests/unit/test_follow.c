/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `cat --follow` (log_follow) on a log being written, rotated and
 * compressed by the writer in this process: every record once, in seq
 * order, from the first or from --seq/--since. (tests/e2e/test_follow.py
 * does the same on the real recorder.)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log/convert.h"
#include "log/csv.h"
#include "log_fixture.h"
#include "test.h"

struct follower {
	const char *dir;
	int format;
	struct log_cat_filter filter;
	bool filtered;
	volatile sig_atomic_t stop;
	int pipe[2];
	pthread_mutex_t lock;
	struct strbuf got; /* what came through the pipe so far */
	char *text;	   /* all of it, at the end */
	int rc;
};

static void *follow_thread(void *arg)
{
	struct follower *f = arg;
	FILE *out = fdopen(f->pipe[1], "w");
	f->rc = log_follow(f->dir, f->format, f->filtered ? &f->filter : NULL, out, &f->stop);
	fclose(out);
	return NULL;
}

/* the pipe's reader: takes all, as a reader of `cat --follow |` does */
static void *collect_thread(void *arg)
{
	struct follower *f = arg;
	char buf[65536];
	ssize_t n;
	while ((n = read(f->pipe[0], buf, sizeof(buf))) > 0) {
		pthread_mutex_lock(&f->lock);
		sb_add(&f->got, buf, (size_t)n);
		pthread_mutex_unlock(&f->lock);
	}
	close(f->pipe[0]);
	return NULL;
}

static bool has_text(struct follower *f, const char *what)
{
	pthread_mutex_lock(&f->lock);
	bool yes = f->got.data && strstr(f->got.data, what);
	pthread_mutex_unlock(&f->lock);
	return yes;
}

static int follow_start(struct follower *f, pthread_t th[2])
{
	f->got = (struct strbuf)STRBUF_INIT;
	pthread_mutex_init(&f->lock, NULL);
	if (pipe(f->pipe) != 0)
		return -1;
	if (pthread_create(&th[0], NULL, follow_thread, f) != 0 ||
	    pthread_create(&th[1], NULL, collect_thread, f) != 0)
		return -1;
	return 0;
}

/* Stop it once `until` came through (or after 30 s); the text in f->text. */
static void follow_end(struct follower *f, pthread_t th[2], const char *until)
{
	for (int i = 0; i < 3000 && !has_text(f, until); i++) {
		struct timespec ts = {0, 10000000L};
		nanosleep(&ts, NULL);
	}
	f->stop = 1;
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	f->text = f->got.data ? f->got.data : strdup("");
	pthread_mutex_destroy(&f->lock);
}

static void pause_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

/* The seqs of the CSV records in text (after its one header), or -1 on a
 * line that is not one; n set to their count. */
static int csv_seqs(char *text, uint64_t *seqs, size_t max, size_t *n)
{
	*n = 0;
	char *save = NULL;
	int lines = 0;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (lines++ == 0) {
			if (strncmp(line, "time,seq,event,", 15) != 0)
				return -1;
			continue;
		}
		const char *c = strchr(line, ',');
		if (!c || *n == max)
			return -1;
		seqs[(*n)++] = strtoull(c + 1, NULL, 10);
	}
	return 0;
}

/* Write START, n EXEC and STOP with small segments, flushing as it goes. */
static int write_log(const char *dir, int n, int level)
{
	struct log_writer_opts o;
	lf_opts(&o, LOG_MIN_ROTATE_SIZE, NULL);
	o.compress_level = level;
	struct log_writer w;
	if (log_writer_open(&w, dir, &o) != 0)
		return -1;
	uint64_t t = LF_T0;
	lf_append(&w, OM_EVENT_START, t, 0);
	for (int i = 0; i < n; i++) {
		lf_append(&w, OM_EVENT_EXEC, t += 1000000, i);
		if (i % 40 == 0) {
			log_writer_flush(&w);
			pause_ms(5);
		}
	}
	lf_append(&w, OM_EVENT_STOP, t += 1000000, 0);
	int rc = log_writer_sync(&w);
	log_writer_close(&w);
	return rc;
}

TEST(follow_every_record_once_across_rotations)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	struct follower f = {.dir = dir, .format = -1};
	pthread_t th[2];
	CHECK_EQ_INT(follow_start(&f, th), 0);
	pause_ms(150); /* it waits for a log */
	int n = 1200;
	CHECK_EQ_INT(write_log(dir, n, 3), 0);
	follow_end(&f, th, ",STOP,");
	CHECK_EQ_INT(f.rc, 0);
	static uint64_t seqs[4096];
	size_t got;
	CHECK_EQ_INT(csv_seqs(f.text, seqs, 4096, &got), 0);
	/* START, n EXEC, STOP, and a SEAL-free log: seqs 0..n+1, each once */
	for (size_t i = 0; i < got; i++)
		if (seqs[i] != i)
			TEST_FAIL_("record %zu has seq %llu (of %zu followed)", i,
				   (unsigned long long)seqs[i], got);
	if (got != (size_t)n + 2)
		TEST_FAIL_("%zu records followed, want %d", got, n + 2);
	for (size_t i = 0; i < got; i++)
		if (seqs[i] != i)
			TEST_FAIL_("record %zu has seq %llu", i, (unsigned long long)seqs[i]);
	free(f.text);
	/* it did rotate and compress */
	struct strbuf sb = STRBUF_INIT;
	char p[4096];
	snprintf(p, sizeof(p), "%s/onmitsu.csv", dir);
	CHECK_EQ_INT(lf_read(p, &sb), 0);
	CHECK(strncmp(sb.data, "time,seq,", 9) == 0);
	CHECK(!strstr(sb.data, ",1,EXEC,")); /* the first records are in closed segments */
	sb_free(&sb);

	/* from a seq, in JSON Lines, on the log as it stands */
	struct follower g = {.dir = dir, .format = LOG_FORMAT_JSONL, .filtered = true};
	g.filter.from_seq = 1000;
	CHECK_EQ_INT(follow_start(&g, th), 0);
	follow_end(&g, th, "\"action\":\"stop\"");
	CHECK_EQ_INT(g.rc, 0);
	CHECK(strncmp(g.text, "{\"@timestamp\":", 14) == 0);
	CHECK(strstr(g.text, "\"sequence\":1000}"));
	CHECK(!strstr(g.text, "\"sequence\":999}"));
	int lines = 0;
	for (const char *q = g.text; (q = strchr(q, '\n')); q++)
		lines++;
	CHECK_EQ_INT(lines, n + 2 - 1000);
	free(g.text);
	lf_rm_rf(dir);
	free(dir);
}
