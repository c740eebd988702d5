/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/segment.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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
#include "log/schema.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/safefile.h"
#include "util/strbuf.h"

#define READ_CHUNK (1u << 20)

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

static bool has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Named like a segment: what a reader could take for part of the log. */
static bool looks_like_segment(const char *name, enum log_format *f)
{
	if (strcmp(name, log_active_name(LOG_FORMAT_CSV)) == 0) {
		*f = LOG_FORMAT_CSV;
		return true;
	}
	if (strcmp(name, log_active_name(LOG_FORMAT_JSONL)) == 0) {
		*f = LOG_FORMAT_JSONL;
		return true;
	}
	if (strncmp(name, SEGMENT_PREFIX, strlen(SEGMENT_PREFIX)) != 0)
		return false;
	size_t n = strlen(name);
	if (has_suffix(name, n, ".csv") || has_suffix(name, n, ".csv.zst")) {
		*f = LOG_FORMAT_CSV;
		return true;
	}
	if (has_suffix(name, n, ".jsonl") || has_suffix(name, n, ".jsonl.zst")) {
		*f = LOG_FORMAT_JSONL;
		return true;
	}
	return false;
}

static const char *file_type_name(mode_t m)
{
	if (S_ISLNK(m))
		return "a symbolic link (segments are regular files)";
	if (S_ISDIR(m))
		return "a directory (segments are regular files)";
	if (S_ISFIFO(m))
		return "a FIFO (segments are regular files)";
	if (S_ISSOCK(m))
		return "a socket (segments are regular files)";
	return "a device or other special file (segments are regular files)";
}

#define NOT_A_SEGMENT_NAME                                                                         \
	"not a name the recorder gives a segment (onmitsu-YYYYMMDDTHHMMSS.UUUUUUZ-SEQ.csv or "     \
	".jsonl[.zst], after its first record)"

/* Exactly the name segment_name gives info's first record (with ".zst" when
 * compressed): only the writer's own names are part of the log. */
static bool canonical_name(const char *name, const struct segment_info *info)
{
	char want[SEGMENT_NAME_MAX + 8];
	segment_name(want, sizeof(want), info->first_time_ns, info->first_seq, info->format);
	if (info->zst)
		strcat(want, ".zst");
	return strcmp(name, want) == 0;
}

/* A candidate of segment_list_all: a file named like a segment. */
struct listed {
	char *name;
	struct segment_info info;
	const char *why; /* not NULL: a stray */
};

static int compare_listed(const void *pa, const void *pb)
{
	const struct listed *a = pa, *b = pb;
	if (a->info.active != b->info.active)
		return a->info.active ? 1 : -1;
	/* compare without ".zst" so plain and compressed interleave by name */
	size_t la = strlen(a->name) - (a->info.zst ? 4 : 0);
	size_t lb = strlen(b->name) - (b->info.zst ? 4 : 0);
	size_t n = la < lb ? la : lb;
	int c = memcmp(a->name, b->name, n);
	if (c)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	return (int)a->info.zst - (int)b->info.zst;
}

void segment_strays_free(struct segment_stray *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

void segment_warn_strays(const char *dir, const struct segment_stray *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		log_warnx("%s/%s is not part of the log: %s; not read (`onmitsu verify` reports "
			  "it)",
			  dir, v[i].name, v[i].why);
}

/* The log's one format (see segment.h). */
static enum log_format choose_format(const struct listed *v, size_t n)
{
	/* an active segment: the one with records over an empty one, then CSV
	 * (as without one) */
	int active = -1, best = -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i].why || !v[i].info.active)
			continue;
		int score = (v[i].info.size > 0) * 2 + (v[i].info.format == LOG_FORMAT_CSV);
		if (score > best) {
			best = score;
			active = (int)i;
		}
	}
	if (active >= 0)
		return v[active].info.format;
	for (size_t i = 0; i < n; i++)
		if (!v[i].why && v[i].info.format == LOG_FORMAT_CSV)
			return LOG_FORMAT_CSV;
	return LOG_FORMAT_JSONL;
}

int segment_list_all(int dirfd, struct segment_info **out, struct segment_stray **strays,
		     size_t *nstrays)
{
	/* a description of its own: a dup would share the read offset with
	 * every other reader of dirfd, in other threads too */
	DIR *d = dir_list_at(dirfd, ".");
	if (!d)
		return -1;
	struct listed *v = NULL;
	size_t n = 0, cap = 0;
	int failed = 0;
	/* errno is cleared before each readdir: it reports an error only
	 * through it, and an error fails the listing rather than leave out
	 * part of the log unnoticed */
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			failed = errno;
			break;
		}
		struct listed l;
		memset(&l, 0, sizeof(l));
		if (!looks_like_segment(de->d_name, &l.info.format))
			continue;
		/* never follow a link: what is checked and read is the file here */
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue; /* compressed or expired by a recorder at work */
			failed = errno;
			break;
		}
		l.info.active = strcmp(de->d_name, log_active_name(l.info.format)) == 0;
		if (!S_ISREG(st.st_mode))
			l.why = file_type_name(st.st_mode);
		else if (!l.info.active &&
			 (strlen(de->d_name) >= SEGMENT_NAME_MAX ||
			  !segment_name_parse(de->d_name, &l.info.first_time_ns, &l.info.first_seq,
					      &l.info.format, &l.info.zst)))
			l.why = NOT_A_SEGMENT_NAME;
		else if (!l.info.active && !canonical_name(de->d_name, &l.info))
			l.why = NOT_A_SEGMENT_NAME;
		l.info.size = st.st_size;
		l.info.mtime = st.st_mtim.tv_sec;
		l.name = strdup(de->d_name);
		if (!l.name)
			fatal("out of memory");
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				fatal("out of memory");
		}
		v[n++] = l;
	}
	closedir(d);
	if (failed) {
		for (size_t i = 0; i < n; i++)
			free(v[i].name);
		free(v);
		errno = failed;
		return -1;
	}
	enum log_format format = choose_format(v, n);
	for (size_t i = 0; i < n; i++)
		if (!v[i].why && v[i].info.format != format)
			v[i].why = format == LOG_FORMAT_CSV
				       ? "a JSON Lines segment in a CSV log (a directory holds "
					 "one format)"
				       : "a CSV segment in a JSON Lines log (a directory holds "
					 "one format)";
	if (n)
		qsort(v, n, sizeof(*v), compare_listed);
	struct segment_info *segs = calloc(n ? n : 1, sizeof(*segs));
	struct segment_stray *sv = NULL;
	size_t k = 0, ns = 0;
	if (!segs)
		fatal("out of memory");
	for (size_t i = 0; i < n; i++) {
		if (v[i].why) {
			if (strays) {
				if (!sv && !(sv = calloc(n, sizeof(*sv))))
					fatal("out of memory");
				struct strbuf e = STRBUF_INIT;
				escape_text(&e, v[i].name, strlen(v[i].name));
				sv[ns].name = strdup(sb_str(&e));
				if (!sv[ns].name)
					fatal("out of memory");
				sv[ns++].why = v[i].why;
				sb_free(&e);
			}
			free(v[i].name);
			continue;
		}
		/* a segment both plain and compressed: keep the plain one (the
		 * compressor is at work, the compressed one may be incomplete) */
		size_t len = strlen(v[i].name);
		if (k > 0 && v[i].info.zst && !segs[k - 1].zst && !segs[k - 1].active &&
		    len == strlen(segs[k - 1].name) + 4 &&
		    strncmp(v[i].name, segs[k - 1].name, len - 4) == 0) {
			free(v[i].name);
			continue;
		}
		segs[k] = v[i].info;
		/* it fits: longer names are strays */
		snprintf(segs[k].name, sizeof(segs[k].name), "%s", v[i].name);
		k++;
		free(v[i].name);
	}
	free(v);
	*out = segs;
	if (strays) {
		*strays = sv;
		*nstrays = ns;
	}
	return (int)k;
}

int segment_list(int dirfd, struct segment_info **out)
{
	return segment_list_all(dirfd, out, NULL, NULL);
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
	int in = open_regular(dirfd, name, O_RDONLY, 0, SF_OWNED, err, errsize);
	if (in < 0)
		return -1;
	struct stat st;
	if (fstat(in, &st) != 0) {
		snprintf(err, errsize, "cannot stat %s: %s", name, strerror(errno));
		close(in);
		return -1;
	}
	/* a stale one (a run that died compressing, or something planted) is
	 * removed, never opened */
	int out = create_fresh(dirfd, tname, O_WRONLY, 0600, err, errsize);
	if (out < 0) {
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
	if (level >= SEGMENT_ZSTD_CAP_FROM_LEVEL) {
		/*
		 * A log repeats itself within a few thousand lines (a process's
		 * records, both ends of a flow): a window of 1 MiB finds what 4 MiB
		 * does, and the match tables need not be larger. At level 9 on a
		 * 16 MiB segment this is 3.7 MiB of compressor instead of 16.7, in
		 * about two thirds of the time, and the segment comes out a little
		 * smaller (docs/LIFECYCLE.md, "Compression"). Lower levels use less
		 * already.
		 */
		ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, SEGMENT_ZSTD_WINDOW_LOG);
		ZSTD_CCtx_setParameter(cc, ZSTD_c_hashLog, SEGMENT_ZSTD_TABLE_LOG);
		ZSTD_CCtx_setParameter(cc, ZSTD_c_chainLog, SEGMENT_ZSTD_TABLE_LOG);
	}
	ZSTD_CCtx_setPledgedSrcSize(cc, (unsigned long long)st.st_size);
	int rc = -1, saved;
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
	saved = errno; /* the caller tells ECANCELED and ENOSPC from others */
	unlinkat(dirfd, tname, 0);
	errno = saved;
done:
	saved = errno;
	ZSTD_freeCCtx(cc);
	free(ibuf);
	free(obuf);
	close(in);
	close(out);
	errno = saved;
	return rc;
}

void seg_source_init(struct seg_source *s, int fd, bool zst)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->zst = zst;
	if (zst) {
		s->zs = ZSTD_createDStream();
		s->in_cap = ZSTD_DStreamInSize();
		s->in = malloc(s->in_cap);
		if (!s->zs || !s->in)
			fatal("out of memory for zstd");
		ZSTD_initDStream(s->zs);
		s->last_ret = 1; /* an empty file holds no complete frame */
	}
}

static ssize_t raw_read(int fd, char *p, size_t n)
{
	for (;;) {
		ssize_t got = read(fd, p, n);
		if (got >= 0 || errno != EINTR)
			return got;
	}
}

ssize_t seg_source_read(struct seg_source *s, char *dst, size_t cap)
{
	if (!s->zst) {
		ssize_t n = raw_read(s->fd, dst, cap);
		if (n < 0)
			snprintf(s->error, sizeof(s->error), "read failed: %s", strerror(errno));
		return n;
	}
	ZSTD_outBuffer out = {dst, cap, 0};
	while (out.pos == 0) {
		if (s->in_pos == s->in_len && !s->in_eof) {
			ssize_t n = raw_read(s->fd, s->in, s->in_cap);
			if (n < 0) {
				snprintf(s->error, sizeof(s->error), "read failed: %s",
					 strerror(errno));
				return -1;
			}
			if (n == 0)
				s->in_eof = true;
			s->in_len = (size_t)n;
			s->in_pos = 0;
		}
		bool drained = s->in_eof && s->in_pos == s->in_len;
		if (drained && s->last_ret == 0)
			break; /* the last frame ended and all its output was given */
		ZSTD_inBuffer in = {s->in, s->in_len, s->in_pos};
		size_t ret = ZSTD_decompressStream(s->zs, &out, &in);
		s->in_pos = in.pos;
		if (ZSTD_isError(ret)) {
			snprintf(s->error, sizeof(s->error), "corrupt compressed data: %s",
				 ZSTD_getErrorName(ret));
			return -1;
		}
		s->last_ret = ret;
		if (drained && out.pos == 0) {
			snprintf(s->error, sizeof(s->error),
				 "compressed data ends in the middle of a frame (truncated file)");
			return -1;
		}
	}
	return (ssize_t)out.pos;
}

void seg_source_close(struct seg_source *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->zs)
		ZSTD_freeDStream(s->zs);
	free(s->in);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

int seg_reader_open(struct seg_reader *r, int dirfd, const char *name)
{
	memset(r, 0, sizeof(*r));
	/* never through a link, never a FIFO (it would hang the reader) */
	int fd = open_regular(dirfd, name, O_RDONLY, 0, 0, r->error, sizeof(r->error));
	size_t n = strlen(name);
	bool zst_twin = false;
	if (fd < 0 && errno == ENOENT &&
	    strncmp(name, SEGMENT_PREFIX, strlen(SEGMENT_PREFIX)) == 0 &&
	    (n < 4 || strcmp(name + n - 4, ".zst") != 0)) {
		/* compressed (and the plain one removed) since it was listed */
		char z[SEGMENT_NAME_MAX + 8];
		snprintf(z, sizeof(z), "%s.zst", name);
		fd = open_regular(dirfd, z, O_RDONLY, 0, 0, r->error, sizeof(r->error));
		zst_twin = true;
	}
	if (fd < 0) {
		r->src.fd = -1;
		return -1;
	}
	seg_reader_init_fd(r, fd, zst_twin || (n > 4 && strcmp(name + n - 4, ".zst") == 0));
	return 0;
}

void seg_reader_init_fd(struct seg_reader *r, int fd, bool zst)
{
	memset(r, 0, sizeof(*r));
	seg_source_init(&r->src, fd, zst);
	r->cap = READ_CHUNK;
	r->buf = malloc(r->cap + 1);
	if (!r->buf)
		fatal("out of memory");
}

int seg_reader_next(struct seg_reader *r, char **line, size_t *len, bool *complete)
{
	for (;;) {
		char *start = r->buf + r->pos;
		char *nl = memchr(start, '\n', r->end - r->pos);
		if (nl && r->skipping) {
			/* the end of a line too long to hold: it is passed over */
			r->consumed += (size_t)(nl - start) + 1;
			r->pos = (size_t)(nl - r->buf) + 1;
			r->line_no++;
			r->skipping = false;
			return 2;
		}
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
		if (r->eof && r->skipping) {
			r->consumed += r->end - r->pos;
			r->pos = r->end;
			r->line_no++;
			r->skipping = false;
			return 2;
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
		if (r->end == r->cap && r->cap >= LOG_LINE_MAX && (r->skip_long || r->skipping)) {
			r->consumed += r->end - r->pos;
			r->pos = r->end = 0;
			r->skipping = true;
		} else if (r->end == r->cap) {
			if (r->cap >= LOG_LINE_MAX) {
				snprintf(r->error, sizeof(r->error),
					 "line %" PRIu64 " is longer than %u bytes", r->line_no + 1,
					 LOG_LINE_MAX);
				return -1;
			}
			r->cap *= 2;
			r->buf = realloc(r->buf, r->cap + 1);
			if (!r->buf)
				fatal("out of memory");
		}
		ssize_t n = seg_source_read(&r->src, r->buf + r->end, r->cap - r->end);
		if (n < 0) {
			snprintf(r->error, sizeof(r->error), "%s", r->src.error);
			return -1;
		}
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
}

void seg_reader_close(struct seg_reader *r)
{
	seg_source_close(&r->src);
	free(r->buf);
	memset(r, 0, sizeof(*r));
	r->src.fd = -1;
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

void log_open_error(char *buf, size_t size, const char *path, bool is_dir, int e)
{
	const char *what = is_dir ? "log directory " : "";
	if (e == ENOENT || e == ENOTDIR) {
		snprintf(buf, size,
			 "cannot read %s%s: %s (is this where the log is? give the recorder's "
			 "log directory with --log-dir DIR)",
			 what, path, strerror(e));
		return;
	}
	if (e != EACCES && e != EPERM) {
		snprintf(buf, size, "cannot read %s%s: %s", what, path, strerror(e));
		return;
	}
	/* the recorder keeps its log root's alone (0700, files 0600); a group
	 * an administrator let read it is named */
	struct stat st;
	mode_t need = is_dir ? (S_IRGRP | S_IXGRP) : S_IRGRP;
	const struct group *g = NULL;
	if (stat(path, &st) == 0 && (st.st_mode & need) == need)
		g = getgrgid(st.st_gid);
	if (g)
		snprintf(buf, size,
			 "cannot read %s%s: %s: run as root, or as a member of the group %s, "
			 "which may read it",
			 what, path, strerror(e), g->gr_name);
	else
		snprintf(buf, size,
			 "cannot read %s%s: %s: run as root (the recorder keeps its log readable "
			 "by root alone), or join a group an administrator lets read it",
			 what, path, strerror(e));
}
