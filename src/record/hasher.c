/* SPDX-License-Identifier: BSD-2-Clause */
#include "record/hasher.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <openssl/evp.h>

#include "record/procfs.h"
#include "util/hex.h"
#include "util/privs.h"

enum entry_state { E_OPENING, E_HASHING, E_DONE, E_FAILED };

/* One file (identity) waited for: the waits point at it. */
struct hash_wait {
	struct om_file_key key;
	struct om_file_id id;
	enum entry_state state;
	enum hash_err err; /* E_FAILED: why; E_OPENING: the last try's reason */
	uint8_t sha[32];
	int refs;	 /* waits not yet answered */
	int cands;	 /* candidates queued for it */
	bool inflight;	 /* in h->inflight (E_OPENING, E_HASHING) */
	int fd;		 /* E_HASHING: the file; the worker's alone */
	struct stat ref; /* fstat when it was opened */
	uint64_t off;	 /* bytes hashed so far */
	EVP_MD_CTX *md;
	struct hash_wait *next; /* in h->inflight */
};

/* One way to open a file: a request's process and names. */
struct cand {
	struct hash_req req; /* path points at path[] */
	char *path;	     /* NUL-terminated copy, or NULL */
	struct hash_wait *e;
	struct cand *next;
};

struct hasher {
	struct hasher_opts o;
	char *proc_root;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	bool stop;
	struct hash_cache cache;
	struct hash_wait *inflight;
	size_t ninflight;
	struct cand *cands, **cands_tail; /* FIFO, oldest first */
	struct hasher_stats stats;
	uint8_t *buf; /* HASH_CHUNK, the worker's */
};

static void entry_put(struct hash_wait *e)
{
	if (e->refs > 0 || e->cands > 0 || e->inflight)
		return;
	if (e->fd >= 0)
		close(e->fd);
	EVP_MD_CTX_free(e->md);
	free(e);
}

static void inflight_remove(struct hasher *h, struct hash_wait *e)
{
	for (struct hash_wait **p = &h->inflight; *p; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			h->ninflight--;
			break;
		}
	e->inflight = false;
}

/* under mu: the entry is settled; wake the consumer */
static void entry_finish(struct hasher *h, struct hash_wait *e, enum hash_err err)
{
	e->state = err == HASH_OK ? E_DONE : E_FAILED;
	e->err = err;
	if (e->fd >= 0) {
		close(e->fd);
		e->fd = -1;
	}
	inflight_remove(h, e);
	if (err == HASH_OK) {
		hash_cache_put(&h->cache, &e->key, e->sha);
		h->stats.hashed++;
		if (h->o.known)
			h->o.known(h->o.ctx, &e->key);
	}
	pthread_cond_broadcast(&h->done);
	entry_put(e);
}

/* ------------------------------------------------------------ opening */

static int fstat_both(int fd, struct stat *st, long *f_type)
{
	struct statfs sf;
	if (fstat(fd, st) != 0 || fstatfs(fd, &sf) != 0)
		return -1;
	*f_type = (long)sf.f_type;
	return 0;
}

static enum hash_err errno_reason(int err)
{
	return err == ENOENT || err == ESRCH ? HASH_E_EXITED : HASH_E_UNREADABLE;
}

/*
 * fd (an O_PATH descriptor) opened for reading through /proc/self/fd, so that
 * what is read is the inode checked, never what a name points to later; the
 * O_PATH one is closed. -1 with errno.
 */
static int reopen_for_read(int fd)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	int r = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int err = errno;
	close(fd);
	errno = err;
	return r;
}

/* The file by its name, when it is the kernel's very file, unchanged. */
static enum hash_err open_by_path(const struct hash_req *req, int *fdp, struct stat *st)
{
	if (!req->path || req->path[0] != '/')
		return HASH_E_EXITED;
	int fd = open(req->path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno_reason(errno);
	long f_type;
	struct stat s;
	if (fstat_both(fd, &s, &f_type) != 0 ||
	    !file_is_unchanged(&req->id, &s, f_type, req->event_unix_ns)) {
		close(fd);
		return HASH_E_CHANGED;
	}
	int rfd = reopen_for_read(fd);
	if (rfd < 0)
		return HASH_E_UNREADABLE;
	struct stat s2;
	if (fstat(rfd, &s2) != 0 || !stat_unchanged(&s, &s2)) {
		close(rfd);
		return HASH_E_CHANGED;
	}
	*fdp = rfd;
	*st = s2;
	return HASH_OK;
}

/*
 * EXEC: the process's exe. It pins the inode the process runs (deleted, a
 * memfd, renamed or replaced by another file under its name). Its content
 * is what ran when this is still the image of that exec (the kernel's
 * generation says the process has not exec'd since): a running
 * executable cannot be written (ETXTBSY). Else it must be unchanged by
 * its change time.
 */
enum hash_err exec_file_open(const struct hasher_opts *o, const struct hash_req *req, int *fdp,
			     struct stat *st)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%" PRIu32 "/exe", o->proc_root ? o->proc_root : "/proc",
		 req->pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	enum hash_err err = HASH_E_EXITED;
	if (fd >= 0) {
		struct stat s;
		long f_type;
		err = HASH_E_CHANGED;
		if (fstat_both(fd, &s, &f_type) == 0 && file_is_same(&req->id, &s, f_type)) {
			/* after the fstat: no exec since, up to now */
			uint64_t gen = 0;
			bool same_image = o->running_exe_unwritable && req->gen && o->exec_gen &&
					  o->exec_gen(o->ctx, req->pid, &gen) == 0 &&
					  gen == req->gen;
			if (same_image ||
			    file_is_unchanged(&req->id, &s, f_type, req->event_unix_ns)) {
				*fdp = fd;
				*st = s;
				return HASH_OK;
			}
		}
		close(fd);
	} else if (errno != ENOENT && errno != ESRCH) {
		err = HASH_E_UNREADABLE;
	}
	enum hash_err perr = open_by_path(req, fdp, st);
	if (perr == HASH_OK)
		return HASH_OK;
	return err;
}

/* MODULE: the mapping itself, found in /proc/PID/maps by device and inode. */
static enum hash_err open_map_file(struct hasher *h, const struct cand *c, int *fdp,
				   struct stat *st)
{
	char p[96];
	snprintf(p, sizeof(p), "%s/%" PRIu32 "/maps", h->proc_root, c->req.pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return errno_reason(errno);
	uint32_t kmaj = c->req.id.dev >> 20, kmin = c->req.id.dev & 0xfffff;
	char *line = NULL;
	size_t cap = 0;
	enum hash_err err = HASH_E_EXITED;
	/* bounded by the maps file (the kernel's) */
	while (getline(&line, &cap, f) > 0) {
		struct proc_map m;
		if (procfs_parse_maps_line(line, &m) != 1 || m.ino != c->req.id.ino ||
		    (c->req.id.magic != OVERLAYFS_MAGIC &&
		     (m.dev_major != kmaj || m.dev_minor != kmin)))
			continue;
		snprintf(p, sizeof(p), "%s/%" PRIu32 "/map_files/%" PRIx64 "-%" PRIx64,
			 h->proc_root, c->req.pid, m.start, m.end);
		int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0) {
			err = errno_reason(errno);
			continue;
		}
		struct stat s;
		long f_type;
		if (fstat_both(fd, &s, &f_type) == 0 &&
		    file_is_unchanged(&c->req.id, &s, f_type, c->req.event_unix_ns)) {
			*fdp = fd;
			*st = s;
			err = HASH_OK;
			break;
		}
		close(fd);
		err = HASH_E_CHANGED;
	}
	free(line);
	fclose(f);
	return err;
}

static enum hash_err open_cand(struct hasher *h, struct cand *c, int *fdp, struct stat *st)
{
	switch (c->req.kind) {
	case HASH_REQ_EXEC:
		return exec_file_open(&h->o, &c->req, fdp, st);
	case HASH_REQ_MODULE: {
		enum hash_err err = open_by_path(&c->req, fdp, st);
		if (err == HASH_OK)
			return err;
		enum hash_err merr = open_map_file(h, c, fdp, st);
		return merr == HASH_OK || err == HASH_E_EXITED ? merr : err;
	}
	case HASH_REQ_FD: {
		int fd = c->req.fd;
		c->req.fd = -1;
		struct stat s;
		long f_type;
		if (fstat_both(fd, &s, &f_type) != 0 ||
		    !file_is_unchanged(&c->req.id, &s, f_type, c->req.event_unix_ns)) {
			close(fd);
			return HASH_E_CHANGED;
		}
		*fdp = fd;
		*st = s;
		return HASH_OK;
	}
	}
	return HASH_E_UNREADABLE;
}

static void cand_free(struct cand *c)
{
	if (c->req.kind == HASH_REQ_FD && c->req.fd >= 0)
		close(c->req.fd);
	free(c->path);
	free(c);
}

/* ------------------------------------------------------------ hashing */

/* One chunk of e's file (the worker, without mu). 1: finished (err set), 0: more. */
static int hash_chunk(struct hasher *h, struct hash_wait *e, enum hash_err *err)
{
	if (!e->md) {
		e->md = EVP_MD_CTX_new();
		if (!e->md || EVP_DigestInit_ex(e->md, EVP_sha256(), NULL) != 1) {
			*err = HASH_E_UNREADABLE;
			return 1;
		}
	}
	ssize_t n = pread(e->fd, h->buf, HASH_CHUNK, (off_t)e->off);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		*err = HASH_E_UNREADABLE;
		return 1;
	}
	if (n > 0) {
		e->off += (uint64_t)n;
		if (e->off > (uint64_t)e->ref.st_size ||
		    EVP_DigestUpdate(e->md, h->buf, (size_t)n) != 1) {
			*err = HASH_E_CHANGED; /* grew while read */
			return 1;
		}
		return 0;
	}
	/* the end: all of it, and no change while it was read */
	struct stat now;
	unsigned int len = 0;
	if (e->off != (uint64_t)e->ref.st_size || fstat(e->fd, &now) != 0 ||
	    !stat_unchanged(&e->ref, &now)) {
		*err = HASH_E_CHANGED;
		return 1;
	}
	if (EVP_DigestFinal_ex(e->md, e->sha, &len) != 1 || len != 32) {
		*err = HASH_E_UNREADABLE;
		return 1;
	}
	*err = HASH_OK;
	return 1;
}

static struct hash_wait *first_hashing(struct hasher *h)
{
	for (struct hash_wait *e = h->inflight; e; e = e->next)
		if (e->state == E_HASHING)
			return e;
	return NULL;
}

static void *worker(void *arg)
{
	struct hasher *h = arg;
	thread_keep_capabilities((1ull << CAP_SYS_PTRACE) | (1ull << CAP_DAC_READ_SEARCH) |
				 (1ull << CAP_CHECKPOINT_RESTORE));
	pthread_mutex_lock(&h->mu);
	while (!h->stop) {
		/* opening first: the processes may be about to exit */
		struct cand *c = h->cands;
		if (c) {
			h->cands = c->next;
			if (!h->cands)
				h->cands_tail = &h->cands;
			struct hash_wait *e = c->e;
			if (e->state == E_OPENING) {
				pthread_mutex_unlock(&h->mu);
				int fd = -1;
				struct stat st;
				enum hash_err err = open_cand(h, c, &fd, &st);
				pthread_mutex_lock(&h->mu);
				if (err == HASH_OK) {
					e->fd = fd;
					e->ref = st;
					e->state = E_HASHING;
				} else {
					e->err = err;
				}
			}
			e->cands--;
			cand_free(c);
			if (e->state == E_OPENING && e->cands == 0)
				entry_finish(h, e, e->err);
			else
				entry_put(e);
			continue;
		}
		struct hash_wait *e = first_hashing(h);
		if (e) {
			pthread_mutex_unlock(&h->mu);
			enum hash_err err = HASH_OK;
			uint64_t before = e->off;
			int finished = hash_chunk(h, e, &err);
			pthread_mutex_lock(&h->mu);
			h->stats.bytes += e->off - before;
			if (finished)
				entry_finish(h, e, err);
			continue;
		}
		pthread_cond_wait(&h->work, &h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* ------------------------------------------------------------ the consumer's side */

bool hasher_probe_running_exe_unwritable(void)
{
	int fd = open("/proc/self/exe", O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	return errno == ETXTBSY;
}

struct hasher *hasher_new(const struct hasher_opts *o)
{
	struct hasher *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->o = *o;
	h->proc_root = strdup(o->proc_root ? o->proc_root : "/proc");
	h->o.proc_root = h->proc_root; /* exec_file_open reads it from the options */
	h->buf = malloc(HASH_CHUNK);
	h->cands_tail = &h->cands;
	if (!h->proc_root || !h->buf || hash_cache_init(&h->cache, HASH_CACHE_ENTRIES) != 0)
		goto fail;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->work, NULL);
	pthread_cond_init(&h->done, NULL);
	if (pthread_create(&h->thread, NULL, worker, h) != 0) {
		pthread_mutex_destroy(&h->mu);
		pthread_cond_destroy(&h->work);
		pthread_cond_destroy(&h->done);
		goto fail;
	}
	return h;
fail:
	hash_cache_free(&h->cache);
	free(h->buf);
	free(h->proc_root);
	free(h);
	return NULL;
}

void hasher_free(struct hasher *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	pthread_cond_broadcast(&h->work);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
	while (h->cands) {
		struct cand *c = h->cands;
		struct hash_wait *e = c->e;
		h->cands = c->next;
		e->cands--;
		cand_free(c);
		entry_put(e);
	}
	while (h->inflight) {
		struct hash_wait *e = h->inflight;
		inflight_remove(h, e);
		e->refs = 0; /* waits still held are released with it */
		entry_put(e);
	}
	hash_cache_free(&h->cache);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->work);
	pthread_cond_destroy(&h->done);
	free(h->buf);
	free(h->proc_root);
	free(h);
}

static void set_result(const struct hash_wait *e, char sha_hex[HASH_SHA_HEX], enum hash_err *err)
{
	if (e->state == E_DONE) {
		hex_encode(sha_hex, e->sha, 32);
		*err = HASH_OK;
	} else {
		sha_hex[0] = '\0';
		*err = e->err;
	}
}

static struct cand *cand_new(const struct hash_req *r, struct hash_wait *e)
{
	struct cand *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->req = *r;
	c->e = e;
	if (r->path && r->path_len && r->path_len < PATH_MAX) {
		c->path = strndup(r->path, r->path_len);
		if (!c->path || strlen(c->path) != r->path_len) {
			free(c->path); /* a NUL inside: no name to open */
			c->path = NULL;
		}
	}
	c->req.path = c->path;
	return c;
}

struct hash_wait *hasher_request(struct hasher *h, const struct hash_req *r,
				 char sha_hex[HASH_SHA_HEX], enum hash_err *err)
{
	sha_hex[0] = '\0';
	struct om_file_key key;
	file_key_from_id(&key, &r->id);
	uint8_t sha[32];
	pthread_mutex_lock(&h->mu);
	struct hash_wait *e = NULL;
	if (r->id.size > h->o.max_size) {
		*err = HASH_E_TOO_BIG;
		goto now;
	}
	if (hash_cache_get(&h->cache, &key, sha)) {
		h->stats.cache_hits++;
		hex_encode(sha_hex, sha, 32);
		*err = HASH_OK;
		goto now;
	}
	for (e = h->inflight; e; e = e->next)
		if (memcmp(&e->key, &key, sizeof(key)) == 0)
			break;
	if (e) {
		h->stats.cache_hits++;
		e->refs++;
		/* one more process to open it from, while none has worked yet */
		if (e->state == E_OPENING && e->cands < HASH_CANDIDATES_MAX &&
		    r->kind != HASH_REQ_FD) {
			struct cand *c = cand_new(r, e);
			if (c) {
				e->cands++;
				*h->cands_tail = c;
				h->cands_tail = &c->next;
				pthread_cond_signal(&h->work);
			}
		}
		if (r->kind == HASH_REQ_FD)
			close(r->fd);
		pthread_mutex_unlock(&h->mu);
		return e;
	}
	if (h->ninflight >= HASH_INFLIGHT_MAX) {
		*err = HASH_E_BUSY;
		goto now;
	}
	e = calloc(1, sizeof(*e));
	struct cand *c = e ? cand_new(r, e) : NULL;
	if (!c) {
		free(e);
		*err = HASH_E_BUSY; /* out of memory */
		goto now;
	}
	e->key = key;
	e->id = r->id;
	e->fd = -1;
	e->state = E_OPENING;
	e->err = HASH_E_EXITED;
	e->refs = 1;
	e->cands = 1;
	e->inflight = true;
	e->next = h->inflight;
	h->inflight = e;
	h->ninflight++;
	*h->cands_tail = c;
	h->cands_tail = &c->next;
	pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->mu);
	return e;
now:
	if (r->kind == HASH_REQ_FD)
		close(r->fd);
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

bool hasher_result(struct hasher *h, struct hash_wait *w, char sha_hex[HASH_SHA_HEX],
		   enum hash_err *err)
{
	pthread_mutex_lock(&h->mu);
	bool ready = w->state == E_DONE || w->state == E_FAILED;
	if (ready) {
		set_result(w, sha_hex, err);
		w->refs--;
		entry_put(w);
	}
	pthread_mutex_unlock(&h->mu);
	return ready;
}

void hasher_release(struct hasher *h, struct hash_wait *w)
{
	pthread_mutex_lock(&h->mu);
	w->refs--;
	entry_put(w);
	pthread_mutex_unlock(&h->mu);
}

void hasher_sleep(struct hasher *h, int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&h->mu);
	pthread_cond_timedwait(&h->done, &h->mu, &ts);
	pthread_mutex_unlock(&h->mu);
}

void hasher_get_stats(struct hasher *h, struct hasher_stats *s)
{
	pthread_mutex_lock(&h->mu);
	*s = h->stats;
	pthread_mutex_unlock(&h->mu);
}
