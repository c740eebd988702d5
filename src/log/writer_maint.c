/* SPDX-License-Identifier: BSD-2-Clause */
/* The compressor thread: off the recording path, it syncs closed segments,
 * compresses them and expires the oldest (retention, or for space). */
#include "log/writer.h"
#include "log/writer_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "log/evidence.h"
#include "util/log.h"
#include "util/privs.h"
#include "util/safefile.h"

/* Half-written compressed files of a run that died while compressing: this
 * thread is the only one that makes them, so at its start they are stale. */
static void remove_stale_tmp(struct log_writer *w)
{
	DIR *d = dir_list_at(w->dirfd, ".");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (strncmp(de->d_name, SEGMENT_PREFIX, strlen(SEGMENT_PREFIX)) == 0 && n > 8 &&
		    strcmp(de->d_name + n - 8, ".zst.tmp") == 0 &&
		    unlinkat(w->dirfd, de->d_name, 0) == 0)
			log_info("removed %s/%s, left by a run that died compressing it", w->dir,
				 de->d_name);
	}
	closedir(d);
}

/* Delete a closed segment, and its compressed twin when it is plain. */
static int expire_segment(struct log_writer *w, const struct segment_info *si)
{
	if (unlinkat(w->dirfd, si->name, 0) != 0 && errno != ENOENT) {
		log_warn("cannot expire %s/%s", w->dir, si->name);
		return -1;
	}
	if (!si->zst) {
		/* its compressed twin, if the compressor had got that far */
		char z[SEGMENT_NAME_MAX + 8];
		snprintf(z, sizeof(z), "%s.zst", si->name);
		unlinkat(w->dirfd, z, 0);
	}
	return 0;
}

/*
 * The disk is full and the writer holds records it cannot write: expire the
 * oldest closed segment, as retention would later, to make room for them
 * (only when retention is on: with no --keep-size or --keep-age nothing is
 * deleted, and the records are lost and counted instead). Warned, naming
 * the segment, and counted in STOP (segments_expired_for_space=).
 */
static void expire_for_space(struct log_writer *w)
{
	struct segment_info *segs;
	int n = segment_list(w->dirfd, &segs);
	if (n < 0)
		return;
	for (int i = 0; i < n; i++) {
		if (segs[i].active)
			continue;
		if (expire_segment(w, &segs[i]) == 0) {
			log_warnx("the disk holding %s is full: expired %s, the oldest segment "
				  "(records from seq %" PRIu64 "), to make room for the records "
				  "waiting to be written",
				  w->dir, segs[i].name, segs[i].first_seq);
			fsync(w->dirfd);
			pthread_mutex_lock(&w->mu);
			w->expired++;
			w->expired_for_space++;
			pthread_mutex_unlock(&w->mu);
		}
		break;
	}
	free(segs);
}

static void maintain_once(struct log_writer *w)
{
	/* what rotation left unsynced: the renames, the closed segments */
	fsync(w->dirfd);
	pthread_mutex_lock(&w->mu);
	bool space = w->space_wanted;
	w->space_wanted = false;
	pthread_mutex_unlock(&w->mu);
	if (space)
		expire_for_space(w);
	struct segment_info *segs;
	int n = segment_list(w->dirfd, &segs);
	if (n < 0) {
		log_warn("cannot list the log directory %s", w->dir);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (segs[i].active || segs[i].zst)
			continue;
		int fd = open_regular(w->dirfd, segs[i].name, O_RDONLY, 0, SF_OWNED, NULL, 0);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	for (int i = 0; i < n && w->opts.compress_level > 0; i++) {
		if (w->stopping)
			break;
		if (segs[i].active || segs[i].zst)
			continue;
		char err[256];
		if (segment_compress(w->dirfd, segs[i].name, w->opts.compress_level, &w->stopping,
				     err, sizeof(err)) != 0) {
			/* a full disk was warned about by the writer */
			if (errno != ECANCELED && errno != ENOSPC && errno != EDQUOT)
				log_warnx("%s: %s", w->dir, err);
			continue;
		}
		log_debug("compressed %s/%s", w->dir, segs[i].name);
		pthread_mutex_lock(&w->mu);
		w->compressed++;
		pthread_mutex_unlock(&w->mu);
	}
	free(segs);
	if (w->stopping || (!w->opts.keep_size && !w->opts.keep_age))
		return;
	n = segment_list(w->dirfd, &segs);
	if (n < 0)
		return;
	size_t closed = 0;
	uint64_t active_size = 0;
	for (int i = 0; i < n; i++) {
		if (segs[i].active)
			active_size += (uint64_t)segs[i].size;
		else
			closed++;
	}
	size_t del = segment_plan_retention(segs, closed, active_size, w->opts.keep_size,
					    w->opts.keep_age, (int64_t)time(NULL));
	for (size_t i = 0; i < del; i++) {
		if (expire_segment(w, &segs[i]) != 0)
			continue;
		log_info("expired %s/%s (retention)", w->dir, segs[i].name);
		pthread_mutex_lock(&w->mu);
		w->expired++;
		pthread_mutex_unlock(&w->mu);
	}
	if (del)
		fsync(w->dirfd);
	/* Evidence lives as long as the log that names it: what is older than
	 * the oldest record left (less an hour: the files are written some
	 * milliseconds before their EVIDENCE record, never an hour) goes too. */
	if (del && del < (size_t)n && segs[del].first_time_ns) {
		size_t files = 0;
		uint64_t bytes = 0;
		int64_t cutoff = (int64_t)(segs[del].first_time_ns / 1000000000ull) - 3600;
		size_t dirs = ev_expire(w->dirfd, cutoff, &files, &bytes);
		if (dirs || files)
			log_info(
			    "expired the evidence of %zu processes and %zu kept files (%" PRIu64
			    " bytes) older than the log's oldest record (retention)",
			    dirs, files, bytes);
	}
	free(segs);
}

void *compressor_main(void *arg)
{
	struct log_writer *w = arg;
	thread_keep_capability(-1); /* compressing and expiring need no privilege */
	remove_stale_tmp(w);
	/* a background chore: let the recording threads go first */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	pthread_mutex_lock(&w->mu);
	while (!w->stopping) {
		if (!w->pending) {
			pthread_cond_wait(&w->cond, &w->mu);
			continue;
		}
		w->pending = false;
		pthread_mutex_unlock(&w->mu);
		maintain_once(w);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

void log_writer_maintain(struct log_writer *w)
{
	if (!w->thread_running)
		return;
	pthread_mutex_lock(&w->mu);
	w->pending = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
}
