/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/evidence.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util/hex.h"
#include "util/safefile.h"

static bool is_hex64(const char *s, size_t n)
{
	return n == 64 && hex_is_lower(s, n);
}

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

bool ev_entry_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 6 + 64 && memcmp(name, EVIDENCE_FILES "/", 6) == 0)
		return is_hex64(name + 6, 64);
	if (n == 0 || n > 32 || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!word_char(name[i]))
			return false;
	return strcmp(name, EVIDENCE_FILES) != 0;
}

bool ev_record_path_ok(const char *path, size_t len)
{
	static const char pre[] = EVIDENCE_DIR "/";
	size_t p = sizeof(pre) - 1;
	if (len < p + 36 || memcmp(path, pre, p) != 0)
		return false;
	for (size_t i = p; i < p + 36; i++) {
		char c = path[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'))
			return false;
	}
	if (len == p + 36)
		return true;
	return len == p + 38 && path[p + 36] == '.' && path[p + 37] >= '1' && path[p + 37] <= '9';
}

/* what: a word of [a-z0-9_:.-], 1..EVIDENCE_NAME_MAX */
static bool what_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > EVIDENCE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!word_char(s[i]) && s[i] != ':')
			return false;
	return true;
}

void ev_manifest_write(const struct ev_manifest *m, struct strbuf *out)
{
	sb_adds(out, EVIDENCE_MAGIC "\n");
	sb_addf(out, "pid %" PRIu32 "\nstart_ticks %" PRIu64 "\nguid %s\nrule %s\n", m->pid,
		m->start_ticks, m->guid, m->rule);
	for (size_t i = 0; i < m->n; i++) {
		const struct ev_entry *e = &m->e[i];
		if (e->kept)
			sb_addf(out, "file %s %" PRIu64 " %s %s\n", e->name, e->size, e->sha,
				e->what);
		else
			sb_addf(out, "not_kept %s %s\n", e->what, e->reason);
	}
}

__attribute__((format(printf, 4, 5))) static int bad(char *err, size_t errsize, unsigned line,
						     const char *fmt, ...)
{
	int n = snprintf(err, errsize, "line %u: ", line);
	if (n < 0 || (size_t)n >= errsize)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + n, errsize - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Split line (NUL-terminated, changed) into at most max words on single
 * spaces; -1 when there are more, or an empty word. */
static int split_words(char *line, char **w, int max)
{
	int n = 0;
	char *p = line;
	for (;;) {
		if (n == max)
			return -1;
		w[n++] = p;
		char *sp = strchr(p, ' ');
		if (!sp)
			break;
		*sp = '\0';
		p = sp + 1;
	}
	for (int i = 0; i < n; i++)
		if (!*w[i])
			return -1;
	return n;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	size_t n = strlen(s);
	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return true;
}

int ev_manifest_parse(const char *buf, size_t len, struct ev_manifest *m, char *err, size_t errsize)
{
	memset(m, 0, sizeof(*m));
	if (len > EVIDENCE_MANIFEST_MAX)
		return bad(err, errsize, 0, "longer than %u bytes", EVIDENCE_MANIFEST_MAX);
	if (memchr(buf, '\0', len))
		return bad(err, errsize, 0, "a NUL byte");
	if (len == 0 || buf[len - 1] != '\n')
		return bad(err, errsize, 0, "does not end with a newline");
	char line[512];
	unsigned no = 0;
	bool have[4] = {false};
	for (size_t off = 0; off < len;) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t ll = (size_t)(nl - (buf + off));
		no++;
		if (ll >= sizeof(line))
			return bad(err, errsize, no, "longer than %zu bytes", sizeof(line) - 1);
		memcpy(line, buf + off, ll);
		line[ll] = '\0';
		off += ll + 1;
		if (no == 1) {
			if (strcmp(line, EVIDENCE_MAGIC) != 0)
				return bad(err, errsize, no, "not \"" EVIDENCE_MAGIC "\"");
			continue;
		}
		char *w[6];
		int n = split_words(line, w, 6);
		if (n < 2)
			return bad(err, errsize, no, "want KEY VALUE...");
		uint64_t v;
		if (strcmp(w[0], "pid") == 0 && n == 2) {
			if (!parse_u64(w[1], &v) || v > UINT32_MAX)
				return bad(err, errsize, no, "bad pid");
			m->pid = (uint32_t)v;
			have[0] = true;
		} else if (strcmp(w[0], "start_ticks") == 0 && n == 2) {
			if (!parse_u64(w[1], &m->start_ticks))
				return bad(err, errsize, no, "bad start_ticks");
			have[1] = true;
		} else if (strcmp(w[0], "guid") == 0 && n == 2) {
			char pathbuf[64];
			snprintf(pathbuf, sizeof(pathbuf), EVIDENCE_DIR "/%.40s", w[1]);
			if (strlen(w[1]) != 36 || !ev_record_path_ok(pathbuf, strlen(pathbuf)))
				return bad(err, errsize, no, "bad guid");
			memcpy(m->guid, w[1], 37);
			have[2] = true;
		} else if (strcmp(w[0], "rule") == 0 && n == 2) {
			if (strlen(w[1]) >= sizeof(m->rule) || !what_ok(w[1]))
				return bad(err, errsize, no, "bad rule");
			snprintf(m->rule, sizeof(m->rule), "%s", w[1]);
			have[3] = true;
		} else if (strcmp(w[0], "file") == 0 && n == 5) {
			if (m->n == EVIDENCE_ENTRIES_MAX)
				return bad(err, errsize, no, "more than %d entries",
					   EVIDENCE_ENTRIES_MAX);
			struct ev_entry *e = &m->e[m->n];
			if (!ev_entry_name_ok(w[1]))
				return bad(err, errsize, no, "bad file name");
			if (!parse_u64(w[2], &e->size))
				return bad(err, errsize, no, "bad size");
			if (!is_hex64(w[3], strlen(w[3])))
				return bad(err, errsize, no, "bad sha256");
			if (!what_ok(w[4]))
				return bad(err, errsize, no, "bad kind");
			e->kept = true;
			snprintf(e->name, sizeof(e->name), "%s", w[1]);
			memcpy(e->sha, w[3], 65);
			snprintf(e->what, sizeof(e->what), "%s", w[4]);
			m->n++;
		} else if (strcmp(w[0], "not_kept") == 0 && n == 3) {
			if (m->n == EVIDENCE_ENTRIES_MAX)
				return bad(err, errsize, no, "more than %d entries",
					   EVIDENCE_ENTRIES_MAX);
			struct ev_entry *e = &m->e[m->n];
			if (!what_ok(w[1]) || !what_ok(w[2]) || strlen(w[2]) > EVIDENCE_REASON_MAX)
				return bad(err, errsize, no, "bad not_kept line");
			snprintf(e->what, sizeof(e->what), "%s", w[1]);
			snprintf(e->reason, sizeof(e->reason), "%s", w[2]);
			m->n++;
		} else {
			return bad(err, errsize, no, "unknown line \"%.32s\"", w[0]);
		}
	}
	if (!have[0] || !have[1] || !have[2] || !have[3])
		return bad(err, errsize, no, "pid, start_ticks, guid or rule missing");
	return 0;
}

/* ---------------------------------------------------------------- checking */

/* SHA-256 and size of the regular file name in dirfd (no link followed),
 * read at most max bytes. 0, or -1 with errno. */
static int hash_file(int dirfd, const char *name, uint64_t max, char sha_hex[65], uint64_t *size)
{
	int fd = open_regular(dirfd, name, O_RDONLY, 0, 0, NULL, 0);
	if (fd < 0)
		return -1;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	uint8_t buf[65536];
	uint64_t total = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > max) {
			errno = EFBIG;
			rc = -1;
			break;
		}
		EVP_DigestUpdate(md, buf, (size_t)n);
	}
	uint8_t sha[32];
	unsigned int len = 0;
	if (rc == 0 && (EVP_DigestFinal_ex(md, sha, &len) != 1 || len != 32)) {
		errno = EIO;
		rc = -1;
	}
	EVP_MD_CTX_free(md);
	close(fd);
	if (rc == 0) {
		hex_encode(sha_hex, sha, 32);
		*size = total;
	}
	return rc;
}

/* The directory name in dirfd, never through a link. */
static int open_subdir(int dirfd, const char *name)
{
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int ev_check(int logfd, const char *path, const char *sha_hex, char *err, size_t errsize)
{
	size_t plen = strlen(path);
	if (!ev_record_path_ok(path, plen)) {
		snprintf(err, errsize,
			 "path \"%.80s\" is not an evidence directory (evidence/GUID)", path);
		return -1;
	}
	if (!is_hex64(sha_hex, strlen(sha_hex))) {
		snprintf(err, errsize, "%s: the record's sha256 is not 64 hex digits", path);
		return -1;
	}
	int evfd = open_subdir(logfd, EVIDENCE_DIR);
	int dfd = evfd >= 0 ? open_subdir(evfd, path + sizeof(EVIDENCE_DIR)) : -1;
	int filesfd = evfd >= 0 ? open_subdir(evfd, EVIDENCE_FILES) : -1;
	int rc = -1;
	char *buf = NULL;
	struct ev_manifest *m = NULL;
	if (dfd < 0) {
		snprintf(err, errsize, "%s: missing (%s)", path, strerror(errno));
		goto out;
	}
	char got[65];
	uint64_t size;
	if (hash_file(dfd, EVIDENCE_MANIFEST, EVIDENCE_MANIFEST_MAX, got, &size) != 0) {
		snprintf(err, errsize, "%s/" EVIDENCE_MANIFEST ": cannot be read (%s)", path,
			 strerror(errno));
		goto out;
	}
	if (strcmp(got, sha_hex) != 0) {
		snprintf(err, errsize,
			 "%s/" EVIDENCE_MANIFEST ": its SHA-256 is not the record's (the manifest "
			 "was changed or replaced)",
			 path);
		goto out;
	}
	int mfd = open_regular(dfd, EVIDENCE_MANIFEST, O_RDONLY, 0, 0, NULL, 0);
	buf = malloc(EVIDENCE_MANIFEST_MAX + 1);
	m = malloc(sizeof(*m));
	if (mfd < 0 || !buf || !m) {
		if (mfd >= 0)
			close(mfd);
		snprintf(err, errsize, "%s/" EVIDENCE_MANIFEST ": cannot be read", path);
		goto out;
	}
	ssize_t n = pread(mfd, buf, EVIDENCE_MANIFEST_MAX + 1, 0);
	close(mfd);
	char why[160];
	if (n < 0 || (uint64_t)n != size ||
	    ev_manifest_parse(buf, (size_t)n, m, why, sizeof(why)) != 0) {
		snprintf(err, errsize, "%s/" EVIDENCE_MANIFEST ": malformed (%s)", path,
			 n < 0 || (uint64_t)n != size ? "changed while read" : why);
		goto out;
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct ev_entry *e = &m->e[i];
		if (!e->kept)
			continue;
		bool shared = strncmp(e->name, EVIDENCE_FILES "/", 6) == 0;
		int in = shared ? filesfd : dfd;
		const char *name = shared ? e->name + 6 : e->name;
		if (in < 0 || hash_file(in, name, e->size, got, &size) != 0) {
			snprintf(err, errsize,
				 "%s: %s (%s) is missing or unreadable, or larger "
				 "than the manifest says (%s)",
				 path, e->name, e->what, strerror(errno));
			goto out;
		}
		if (size != e->size || strcmp(got, e->sha) != 0) {
			snprintf(err, errsize,
				 "%s: %s (%s) does not match the manifest (%s): changed or "
				 "replaced",
				 path, e->name, e->what, size != e->size ? "size" : "SHA-256");
			goto out;
		}
	}
	rc = 0;
out:
	free(buf);
	free(m);
	if (dfd >= 0)
		close(dfd);
	if (filesfd >= 0)
		close(filesfd);
	if (evfd >= 0)
		close(evfd);
	return rc;
}

/* ---------------------------------------------------------------- redaction */

static bool has_word(const char *name, size_t len, const char *w)
{
	size_t wl = strlen(w);
	for (size_t i = 0; i + wl <= len; i++) {
		size_t k = 0;
		while (k < wl && (name[i + k] & ~0x20) == w[k])
			k++;
		if (k == wl)
			return true;
	}
	return false;
}

bool ev_env_name_secret(const char *name, size_t len)
{
	static const char *const words[] = {"KEY",  "TOKEN",  "SECRET",	 "PASS",   "CREDENTIAL",
					    "AUTH", "COOKIE", "SESSION", "PRIVATE"};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (has_word(name, len, words[i]))
			return true;
	/* ..._PWD is a password; PWD and OLDPWD are directories */
	if (has_word(name, len, "PWD") && !(len == 3 && memcmp(name, "PWD", 3) == 0) &&
	    !(len == 6 && memcmp(name, "OLDPWD", 6) == 0))
		return true;
	return false;
}

/* scheme://user:password@ in a value: credentials in a URL */
static bool value_has_url_credentials(const char *v, size_t len)
{
	for (size_t i = 0; i + 3 <= len; i++) {
		if (memcmp(v + i, "://", 3) != 0)
			continue;
		bool colon = false;
		for (size_t k = i + 3; k < len; k++) {
			char c = v[k];
			if (c == '/' || c == '?' || c == '#' || c == ' ')
				break;
			if (c == ':')
				colon = true;
			if (c == '@' && colon)
				return true;
		}
	}
	return false;
}

unsigned ev_env_redact(const char *env, size_t len, struct strbuf *out)
{
	unsigned redacted = 0;
	for (size_t off = 0; off < len;) {
		const char *s = env + off;
		const char *z = memchr(s, '\0', len - off);
		size_t n = z ? (size_t)(z - s) : len - off;
		off += n + (z ? 1 : 0);
		const char *eq = memchr(s, '=', n);
		if (!eq || eq == s) {
			sb_adds(out, "<redacted>");
			redacted++;
		} else {
			size_t nl = (size_t)(eq - s);
			if (ev_env_name_secret(s, nl) ||
			    value_has_url_credentials(eq + 1, n - nl - 1)) {
				sb_add(out, s, nl + 1);
				sb_adds(out, "<redacted>");
				redacted++;
			} else {
				sb_add(out, s, n);
			}
		}
		sb_addc(out, '\0');
	}
	return redacted;
}

bool ev_budget_take(struct ev_budget *b, uint64_t n)
{
	if (n > b->max || b->used > b->max - n)
		return false;
	b->used += n;
	return true;
}

/* ------------------------------------------------------------ retention */

static pthread_mutex_t store_mu = PTHREAD_MUTEX_INITIALIZER;

void ev_store_lock(void)
{
	pthread_mutex_lock(&store_mu);
}

void ev_store_unlock(void)
{
	pthread_mutex_unlock(&store_mu);
}

/* the regular files of dir (then dir itself) removed: bytes freed */
static uint64_t remove_dir(int evfd, const char *name)
{
	uint64_t freed = 0;
	DIR *d = dir_list_at(evfd, name);
	if (!d)
		return 0;
	struct dirent *de;
	size_t seen = 0;
	while ((de = readdir(d)) && seen++ < 4 * EVIDENCE_ENTRIES_MAX) {
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			freed += (uint64_t)st.st_size;
	}
	closedir(d);
	unlinkat(evfd, name, AT_REMOVEDIR);
	return freed;
}

static int cmp_sha(const void *a, const void *b)
{
	return memcmp(a, b, 64);
}

/* the manifest of evidence/name, parsed; 0 or -1 */
static int read_manifest(int evfd, const char *name, struct ev_manifest *m, struct stat *st)
{
	int dfd = openat(evfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	int fd = openat(dfd, EVIDENCE_MANIFEST, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	close(dfd);
	if (fd < 0)
		return -1;
	char *buf = malloc(EVIDENCE_MANIFEST_MAX + 1);
	ssize_t n = -1;
	if (buf && fstat(fd, st) == 0 && S_ISREG(st->st_mode))
		n = read(fd, buf, EVIDENCE_MANIFEST_MAX + 1);
	close(fd);
	char err[128];
	int rc = n >= 0 && (size_t)n <= EVIDENCE_MANIFEST_MAX &&
			 ev_manifest_parse(buf, (size_t)n, m, err, sizeof(err)) == 0
		     ? 0
		     : -1;
	free(buf);
	return rc;
}

size_t ev_expire(int logfd, int64_t cutoff, size_t *files, uint64_t *bytes)
{
	size_t removed = 0, nfiles = 0;
	uint64_t freed = 0;
	char(*shas)[64] = NULL; /* the files the manifests left name */
	size_t nsha = 0, cap = 0;
	struct ev_manifest *m = malloc(sizeof(*m));
	int evfd = openat(logfd, EVIDENCE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = evfd >= 0 ? dir_list_at(evfd, ".") : NULL;
	if (!d || !m) {
		if (d)
			closedir(d);
		goto out;
	}
	struct dirent *de;
	size_t seen = 0;
	while ((de = readdir(d)) && seen++ < 1000000) {
		char path[EVIDENCE_DIRNAME_MAX + sizeof(EVIDENCE_DIR) + 1] = EVIDENCE_DIR "/";
		size_t nl = strlen(de->d_name);
		if (nl > EVIDENCE_DIRNAME_MAX)
			continue;
		memcpy(path + sizeof(EVIDENCE_DIR), de->d_name, nl + 1);
		if (!ev_record_path_ok(path, sizeof(EVIDENCE_DIR) + nl))
			continue;
		struct stat st;
		if (read_manifest(evfd, de->d_name, m, &st) != 0) {
			/* no manifest (a copy cut short by a crash): by the
			 * directory's own time */
			if (fstatat(evfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
			    !S_ISDIR(st.st_mode))
				continue;
			m->n = 0;
		}
		if ((int64_t)st.st_mtime < cutoff) {
			freed += remove_dir(evfd, de->d_name);
			removed++;
			continue;
		}
		for (size_t i = 0; i < m->n; i++) {
			const struct ev_entry *e = &m->e[i];
			if (!e->kept || strncmp(e->name, EVIDENCE_FILES "/", 6) != 0)
				continue;
			if (nsha == cap) {
				cap = cap ? cap * 2 : 256;
				char(*n2)[64] = realloc(shas, cap * sizeof(*shas));
				if (!n2) {
					/* cannot tell what is named: keep every file */
					closedir(d);
					goto out;
				}
				shas = n2;
			}
			memcpy(shas[nsha++], e->name + 6, 64);
		}
	}
	closedir(d);
	if (nsha)
		qsort(shas, nsha, sizeof(*shas), cmp_sha);
	d = dir_list_at(evfd, EVIDENCE_FILES);
	if (!d)
		goto out;
	seen = 0;
	while ((de = readdir(d)) && seen++ < 1000000) {
		char name[EVIDENCE_NAME_MAX + 1] = EVIDENCE_FILES "/";
		if (strlen(de->d_name) != 64)
			continue;
		memcpy(name + 6, de->d_name, 65);
		if (!ev_entry_name_ok(name))
			continue;
		if (nsha && bsearch(de->d_name, shas, nsha, sizeof(*shas), cmp_sha))
			continue;
		/* under the lock: a manifest being written refreshes the time of
		 * a file it names before it names it */
		ev_store_lock();
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && (int64_t)st.st_mtime < cutoff &&
		    unlinkat(dirfd(d), de->d_name, 0) == 0) {
			freed += (uint64_t)st.st_size;
			nfiles++;
		}
		ev_store_unlock();
	}
	closedir(d);
out:
	if (evfd >= 0)
		close(evfd);
	free(shas);
	free(m);
	if (files)
		*files = nfiles;
	if (bytes)
		*bytes = freed;
	return removed;
}
