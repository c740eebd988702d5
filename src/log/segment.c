/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/segment.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "log/csv.h"
#include "util/log.h"

#define READ_CHUNK (1u << 20)
#define MAX_LINE (16u << 20)

const char *log_format_ext(enum log_format f)
{
	return f == LOG_FORMAT_JSONL ? "jsonl" : "csv";
}

const char *log_active_name(enum log_format f)
{
	return f == LOG_FORMAT_JSONL ? "onmitsu.jsonl" : "onmitsu.csv";
}

void segment_name(char *out, size_t size, uint64_t t_ns, uint64_t seq, enum log_format f)
{
	char t[32];
	csv_format_time(t, sizeof(t), t_ns);
	/* 2026-11-25T19:13:17.123456Z -> 20261125T191317.123456Z: no ':' (some
	 * tools and file systems refuse it), and still sorts by time */
	char c[24];
	size_t n = 0;
	for (const char *p = t; *p && n + 1 < sizeof(c); p++)
		if (*p != '-' && *p != ':')
			c[n++] = *p;
	c[n] = '\0';
	snprintf(out, size, SEGMENT_PREFIX "%s-%012" PRIu64 ".%s", c, seq, log_format_ext(f));
}

bool segment_name_parse(const char *name, uint64_t *t_ns, uint64_t *seq, enum log_format *f,
			bool *zst)
{
	size_t plen = strlen(SEGMENT_PREFIX);
	if (strncmp(name, SEGMENT_PREFIX, plen) != 0)
		return false;
	const char *p = name + plen;
	/* 20261125T191317.123456Z */
	if (strlen(p) < 24 || p[8] != 'T' || p[15] != '.' || p[22] != 'Z' || p[23] != '-')
		return false;
	char iso[32];
	snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s.%.6sZ", p, p + 4, p + 6, p + 9,
		 p + 11, p + 13, p + 16);
	uint64_t t;
	if (csv_parse_time(iso, &t) != 0)
		return false;
	p += 24;
	char *e;
	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	unsigned long long s = strtoull(p, &e, 10);
	if (errno || *e != '.')
		return false;
	e++;
	bool z = false;
	enum log_format fmt;
	if (strcmp(e, "csv") == 0 || strcmp(e, "csv.zst") == 0)
		fmt = LOG_FORMAT_CSV;
	else if (strcmp(e, "jsonl") == 0 || strcmp(e, "jsonl.zst") == 0)
		fmt = LOG_FORMAT_JSONL;
	else
		return false;
	z = strstr(e, ".zst") != NULL;
	if (t_ns)
		*t_ns = t;
	if (seq)
		*seq = s;
	if (f)
		*f = fmt;
	if (zst)
		*zst = z;
	return true;
}

static int compare_info(const void *pa, const void *pb)
{
	const struct segment_info *a = pa, *b = pb;
	if (a->active != b->active)
		return a->active ? 1 : -1;
	/* compare without ".zst" so plain and compressed interleave by name */
	size_t la = strlen(a->name) - (a->zst ? 4 : 0), lb = strlen(b->name) - (b->zst ? 4 : 0);
	size_t n = la < lb ? la : lb;
	int c = memcmp(a->name, b->name, n);
	if (c)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	return (int)a->zst - (int)b->zst;
}

int segment_list(int dirfd, struct segment_info **out)
{
	/* a description of its own: a dup would share the read offset with
	 * every other reader of dirfd, in other threads too */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	struct segment_info *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct segment_info si;
		memset(&si, 0, sizeof(si));
		if (strcmp(de->d_name, log_active_name(LOG_FORMAT_CSV)) == 0 ||
		    strcmp(de->d_name, log_active_name(LOG_FORMAT_JSONL)) == 0) {
			si.active = true;
			si.format = de->d_name[8] == 'j' ? LOG_FORMAT_JSONL : LOG_FORMAT_CSV;
		} else if (!segment_name_parse(de->d_name, &si.first_time_ns, &si.first_seq,
					       &si.format, &si.zst)) {
			continue;
		}
		if (strlen(de->d_name) >= sizeof(si.name))
			continue;
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		snprintf(si.name, sizeof(si.name), "%s", de->d_name);
		si.size = st.st_size;
		si.mtime = st.st_mtim.tv_sec;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				fatal("out of memory");
		}
		v[n++] = si;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), compare_info);
	/* a segment both plain and compressed: keep the plain one */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && v[i].zst && !v[k - 1].zst && !v[k - 1].active &&
		    strlen(v[i].name) == strlen(v[k - 1].name) + 4 &&
		    strncmp(v[i].name, v[k - 1].name, strlen(v[k - 1].name)) == 0)
			continue;
		v[k++] = v[i];
	}
	*out = v;
	return (int)k;
}

size_t segment_plan_retention(const struct segment_info *segs, size_t n, uint64_t active_size,
			      uint64_t keep_size, uint64_t keep_age, int64_t now)
{
	uint64_t total = active_size;
	for (size_t i = 0; i < n; i++)
		total += (uint64_t)segs[i].size;
	size_t del = 0;
	while (del < n) {
		bool too_big = keep_size && total > keep_size;
		bool too_old = keep_age && segs[del].mtime < now &&
			       (uint64_t)(now - segs[del].mtime) > keep_age;
		if (!too_big && !too_old)
			break;
		total -= (uint64_t)segs[del].size;
		del++;
	}
	return del;
}

int segment_compress(int dirfd, const char *name, int level, const volatile int *stop, char *err,
		     size_t errsize)
{
	char zname[SEGMENT_NAME_MAX + 8], tname[SEGMENT_NAME_MAX + 16];
	snprintf(zname, sizeof(zname), "%s.zst", name);
	snprintf(tname, sizeof(tname), "%s.zst.tmp", name);
	int in = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		snprintf(err, errsize, "cannot open %s: %s", name, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(in, &st) != 0) {
		snprintf(err, errsize, "cannot stat %s: %s", name, strerror(errno));
		close(in);
		return -1;
	}
	int out = openat(dirfd, tname, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		snprintf(err, errsize, "cannot create %s: %s", tname, strerror(errno));
		close(in);
		return -1;
	}
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t ibuf_len = ZSTD_CStreamInSize(), obuf_len = ZSTD_CStreamOutSize();
	char *ibuf = malloc(ibuf_len), *obuf = malloc(obuf_len);
	if (!cc || !ibuf || !obuf)
		fatal("out of memory for zstd");
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setPledgedSrcSize(cc, (unsigned long long)st.st_size);
	int rc = -1;
	uint64_t total = 0;
	for (;;) {
		if (stop && *stop) {
			snprintf(err, errsize, "stopped before %s was compressed", name);
			errno = ECANCELED;
			goto out;
		}
		ssize_t n = read(in, ibuf, ibuf_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsize, "cannot read %s: %s", name, strerror(errno));
			goto out;
		}
		total += (uint64_t)n;
		bool last = n == 0;
		if (last && total != (uint64_t)st.st_size) {
			snprintf(err, errsize, "%s changed size while being compressed", name);
			goto out;
		}
		ZSTD_inBuffer ib = {ibuf, (size_t)n, 0};
		ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_continue;
		bool done = false;
		while (!done) {
			ZSTD_outBuffer ob = {obuf, obuf_len, 0};
			size_t left = ZSTD_compressStream2(cc, &ob, &ib, mode);
			if (ZSTD_isError(left)) {
				snprintf(err, errsize, "zstd failed on %s: %s", name,
					 ZSTD_getErrorName(left));
				goto out;
			}
			for (size_t off = 0; off < ob.pos;) {
				ssize_t w = write(out, obuf + off, ob.pos - off);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					snprintf(err, errsize, "cannot write %s: %s", tname,
						 strerror(w < 0 ? errno : EIO));
					goto out;
				}
				off += (size_t)w;
			}
			done = last ? left == 0 : ib.pos == ib.size;
		}
		if (last)
			break;
	}
	/* the compressed file keeps the time of the segment's last record, which
	 * retention by age goes by */
	struct timespec times[2] = {st.st_atim, st.st_mtim};
	if (fsync(out) != 0 || futimens(out, times) != 0) {
		snprintf(err, errsize, "cannot sync %s: %s", tname, strerror(errno));
		goto out;
	}
	if (renameat(dirfd, tname, dirfd, zname) != 0) {
		snprintf(err, errsize, "cannot rename %s to %s: %s", tname, zname, strerror(errno));
		goto out;
	}
	fsync(dirfd);
	/* only now is the plain copy redundant */
	if (unlinkat(dirfd, name, 0) != 0) {
		snprintf(err, errsize, "compressed, but cannot remove %s: %s", name,
			 strerror(errno));
		rc = 0;
		goto done;
	}
	fsync(dirfd);
	rc = 0;
	goto done;
out:
	unlinkat(dirfd, tname, 0);
done:
	ZSTD_freeCCtx(cc);
	free(ibuf);
	free(obuf);
	close(in);
	close(out);
	return rc;
}

int seg_reader_open(struct seg_reader *r, int dirfd, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	size_t n = strlen(name);
	bool zst_twin = false;
	if (r->fd < 0 && errno == ENOENT &&
	    strncmp(name, SEGMENT_PREFIX, strlen(SEGMENT_PREFIX)) == 0 &&
	    (n < 4 || strcmp(name + n - 4, ".zst") != 0)) {
		/* compressed (and the plain one removed) since it was listed */
		char z[SEGMENT_NAME_MAX + 8];
		snprintf(z, sizeof(z), "%s.zst", name);
		r->fd = openat(dirfd, z, O_RDONLY | O_CLOEXEC);
		zst_twin = true;
	}
	if (r->fd < 0)
		return -1;
	r->zst = zst_twin || (n > 4 && strcmp(name + n - 4, ".zst") == 0);
	if (r->zst) {
		r->zs = ZSTD_createDStream();
		r->in_cap = ZSTD_DStreamInSize();
		r->in = malloc(r->in_cap);
		if (!r->zs || !r->in)
			fatal("out of memory for zstd");
		ZSTD_initDStream(r->zs);
		r->last_ret = 1;
	}
	r->cap = READ_CHUNK;
	r->buf = malloc(r->cap + 1);
	if (!r->buf)
		fatal("out of memory");
	return 0;
}

static ssize_t raw_read(int fd, char *p, size_t n)
{
	for (;;) {
		ssize_t got = read(fd, p, n);
		if (got >= 0 || errno != EINTR)
			return got;
	}
}

static ssize_t source_read(struct seg_reader *r, char *dst, size_t cap)
{
	if (!r->zst) {
		ssize_t n = raw_read(r->fd, dst, cap);
		if (n < 0)
			snprintf(r->error, sizeof(r->error), "read failed: %s", strerror(errno));
		return n;
	}
	ZSTD_outBuffer out = {dst, cap, 0};
	while (out.pos == 0) {
		if (r->in_pos == r->in_len && !r->in_eof) {
			ssize_t n = raw_read(r->fd, r->in, r->in_cap);
			if (n < 0) {
				snprintf(r->error, sizeof(r->error), "read failed: %s",
					 strerror(errno));
				return -1;
			}
			if (n == 0)
				r->in_eof = true;
			r->in_len = (size_t)n;
			r->in_pos = 0;
		}
		bool drained = r->in_eof && r->in_pos == r->in_len;
		if (drained && r->last_ret == 0)
			break; /* the last frame ended and all its output was given */
		ZSTD_inBuffer in = {r->in, r->in_len, r->in_pos};
		size_t ret = ZSTD_decompressStream(r->zs, &out, &in);
		r->in_pos = in.pos;
		if (ZSTD_isError(ret)) {
			snprintf(r->error, sizeof(r->error), "corrupt compressed data: %s",
				 ZSTD_getErrorName(ret));
			return -1;
		}
		r->last_ret = ret;
		if (drained && out.pos == 0) {
			snprintf(r->error, sizeof(r->error),
				 "compressed data ends in the middle of a frame (truncated file)");
			return -1;
		}
	}
	return (ssize_t)out.pos;
}

int seg_reader_next(struct seg_reader *r, char **line, size_t *len, bool *complete)
{
	for (;;) {
		char *start = r->buf + r->pos;
		char *nl = memchr(start, '\n', r->end - r->pos);
		if (nl) {
			*line = start;
			*len = (size_t)(nl - start);
			*nl = '\0';
			*complete = true;
			r->offset = r->consumed;
			r->consumed += *len + 1;
			r->pos += *len + 1;
			r->line_no++;
			return 1;
		}
		if (r->eof) {
			if (r->pos < r->end) {
				*line = start;
				*len = r->end - r->pos;
				(*line)[*len] = '\0';
				*complete = false;
				r->offset = r->consumed;
				r->consumed += *len;
				r->pos = r->end;
				r->line_no++;
				return 1;
			}
			return 0;
		}
		if (r->pos > 0) {
			memmove(r->buf, r->buf + r->pos, r->end - r->pos);
			r->end -= r->pos;
			r->pos = 0;
		}
		if (r->end == r->cap) {
			if (r->cap >= MAX_LINE) {
				snprintf(r->error, sizeof(r->error),
					 "line %" PRIu64 " is longer than %u bytes", r->line_no + 1,
					 MAX_LINE);
				return -1;
			}
			r->cap *= 2;
			r->buf = realloc(r->buf, r->cap + 1);
			if (!r->buf)
				fatal("out of memory");
		}
		ssize_t n = source_read(r, r->buf + r->end, r->cap - r->end);
		if (n < 0)
			return -1;
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
}

void seg_reader_close(struct seg_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->zs)
		ZSTD_freeDStream(r->zs);
	free(r->in);
	free(r->buf);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

int file_set_append_only(int fd, bool on)
{
	int flags = 0;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0)
		return -1;
	int want = on ? (flags | FS_APPEND_FL) : (flags & ~FS_APPEND_FL);
	if (want == flags)
		return 0;
	return ioctl(fd, FS_IOC_SETFLAGS, &want);
}
