/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/hex.h"
#include "util/log.h"
#include "util/safefile.h"

void seal_key_wipe(struct seal_key *k)
{
	explicit_bzero(k, sizeof(*k));
}

/* The directory of path, opened safely; *base its last component. */
static int key_dir_open(const char *path, unsigned how, const char **base, char *err,
			size_t errsize)
{
	char dir[4096], why[1024];
	if (split_path(path, dir, sizeof(dir), base) != 0) {
		snprintf(err, errsize, "%s is not a file name (%s)", path, strerror(errno));
		return -1;
	}
	int dfd = open_dir_nofollow(dir, how, 0700, NULL, NULL, why, sizeof(why));
	if (dfd < 0) {
		int e = errno;
		snprintf(err, errsize, "the sealing key's directory: %s", why);
		errno = e;
	}
	return dfd;
}

int seal_key_load(const char *path, struct seal_key *k, char *err, size_t errsize)
{
	const char *base;
	char why[1024];
	int dfd = key_dir_open(path, 0, &base, why, sizeof(why));
	int fd = dfd < 0 ? -1 : open_regular(dfd, base, O_RDONLY, 0, SF_OWNED, why, sizeof(why));
	if (dfd >= 0)
		close(dfd);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "r");
	if (!f) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errsize, "cannot read the sealing key %s: %s", path, why);
		return -1;
	}
	char line[256];
	bool have_epoch = false, have_key = false;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "epoch=", 6) == 0) {
			char *e;
			errno = 0;
			unsigned long long v = strtoull(line + 6, &e, 10);
			have_epoch = !errno && *e == '\0' && e != line + 6;
			k->epoch = v;
		} else if (strncmp(line, "key=", 4) == 0) {
			have_key = strlen(line + 4) == 2 * SEAL_KEY_LEN &&
				   hex_decode(k->key, line + 4, SEAL_KEY_LEN) == 0;
		}
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	if (!have_epoch || !have_key) {
		seal_key_wipe(k);
		snprintf(err, errsize,
			 "%s is not an onmitsu sealing key (want lines epoch=N and key=64 hex "
			 "digits, as `onmitsu keygen` writes)",
			 path);
		return -1;
	}
	return 0;
}

int seal_key_store(const char *path, const struct seal_key *k, char *err, size_t errsize)
{
	char tmp[4096], why[1024], scratch[8];
	if (!err) {
		err = scratch;
		errsize = sizeof(scratch);
	}
	const char *base;
	int dfd = key_dir_open(path, 0, &base, err, errsize);
	if (dfd < 0)
		return -1;
	if (snprintf(tmp, sizeof(tmp), "%s.new", base) >= (int)sizeof(tmp)) {
		close(dfd);
		snprintf(err, errsize, "%s: the name is too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	char text[256], hex[2 * SEAL_KEY_LEN + 1];
	hex_encode(hex, k->key, SEAL_KEY_LEN);
	int n = snprintf(text, sizeof(text),
			 "# onmitsu sealing key: it changes at every seal (forward-secure);\n"
			 "# never copy it off the host: keep the verification key instead\n"
			 "epoch=%" PRIu64 "\nkey=%s\n",
			 k->epoch, hex);
	explicit_bzero(hex, sizeof(hex));
	/* the key itself is replaced by rename, which follows no link; what
	 * stands in its place must still be ours (a planted file there would
	 * be replaced by the key all the same, but says someone was here) */
	struct stat st;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
		explicit_bzero(text, sizeof(text));
		close(dfd);
		snprintf(err, errsize, "%s is not a regular file: remove it", path);
		errno = EINVAL;
		return -1;
	}
	int fd = create_fresh(dfd, tmp, O_WRONLY, 0600, why, sizeof(why));
	if (fd < 0) {
		int e = errno;
		explicit_bzero(text, sizeof(text));
		snprintf(err, errsize, "the sealing key's directory: %s", why);
		close(dfd);
		errno = e;
		return -1;
	}
	ssize_t w = write(fd, text, (size_t)n);
	explicit_bzero(text, sizeof(text));
	int saved = errno;
	if (w != n || fsync(fd) != 0) {
		saved = w < 0 || w == n ? errno : EIO;
		close(fd);
		unlinkat(dfd, tmp, 0);
		close(dfd);
		snprintf(err, errsize, "cannot write %s.new: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	close(fd);
	if (renameat(dfd, tmp, dfd, base) != 0) {
		saved = errno;
		unlinkat(dfd, tmp, 0);
		close(dfd);
		snprintf(err, errsize, "cannot rename %s.new to %s: %s", path, path,
			 strerror(saved));
		errno = saved;
		return -1;
	}
	fsync(dfd);
	close(dfd);
	return 0;
}

void seal_key_evolve(struct seal_key *k)
{
	static const char label[] = "onmitsu-seal-evolve-v1";
	uint8_t md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, label, sizeof(label) - 1) != 1 ||
	    EVP_DigestUpdate(ctx, k->key, SEAL_KEY_LEN) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		fatalx("SHA-256 failed in OpenSSL");
	EVP_MD_CTX_free(ctx);
	_Static_assert(sizeof(md) == SEAL_KEY_LEN, "key is a SHA-256 digest");
	memcpy(k->key, md, SEAL_KEY_LEN);
	explicit_bzero(md, sizeof(md));
	k->epoch++;
}

int seal_key_generate(struct seal_key *k)
{
	memset(k, 0, sizeof(*k));
	size_t got = 0;
	while (got < SEAL_KEY_LEN) {
		ssize_t n = getrandom(k->key + got, SEAL_KEY_LEN - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

void seal_hmac(const uint8_t key[SEAL_KEY_LEN], uint64_t epoch, uint64_t seq, const char *head,
	       char hmac_hex[SEAL_HMAC_HEX_LEN + 1])
{
	char msg[160];
	int n =
	    snprintf(msg, sizeof(msg), "onmitsu-seal-v1 epoch=%" PRIu64 " seq=%" PRIu64 " head=%s",
		     epoch, seq, head);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!HMAC(EVP_sha256(), key, SEAL_KEY_LEN, (const unsigned char *)msg, (size_t)n, md,
		  &mdlen) ||
	    mdlen != 32)
		fatalx("HMAC-SHA-256 failed in OpenSSL");
	hex_encode(hmac_hex, md, 32);
}

void seal_verify_key_format(const uint8_t key0[SEAL_KEY_LEN], char *out, size_t size)
{
	char hex[2 * SEAL_KEY_LEN + 1];
	hex_encode(hex, key0, SEAL_KEY_LEN);
	snprintf(out, size, SEAL_VERIFY_PREFIX "%s", hex);
	explicit_bzero(hex, sizeof(hex));
}

int seal_verify_key_parse(const char *text, uint8_t key0[SEAL_KEY_LEN])
{
	const char *p = strstr(text, SEAL_VERIFY_PREFIX);
	if (!p)
		return -1;
	p += strlen(SEAL_VERIFY_PREFIX);
	if (strnlen(p, 2 * SEAL_KEY_LEN) != 2 * SEAL_KEY_LEN)
		return -1;
	char c = p[2 * SEAL_KEY_LEN];
	if (c && c != '\n' && c != '\r' && c != ' ')
		return -1;
	return hex_decode(key0, p, SEAL_KEY_LEN);
}

bool detail_get(const char *detail, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	for (const char *p = detail; p && *p;) {
		while (*p == ' ')
			p++;
		const char *end = strchr(p, ' ');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > klen && p[klen] == '=' && memcmp(p, key, klen) == 0) {
			size_t vlen = n - klen - 1;
			if (vlen >= size)
				vlen = size - 1;
			memcpy(out, p + klen + 1, vlen);
			out[vlen] = '\0';
			return true;
		}
		p = end;
	}
	return false;
}

bool detail_get_range(const char *detail, const char *key, uint64_t *first, uint64_t *last)
{
	char v[48], *e;
	if (!detail_get(detail, key, v, sizeof(v)) || v[0] < '0' || v[0] > '9')
		return false;
	errno = 0;
	*first = strtoull(v, &e, 10);
	if (errno || strncmp(e, "..", 2) != 0 || e[2] < '0' || e[2] > '9')
		return false;
	const char *b = e + 2;
	*last = strtoull(b, &e, 10);
	return !errno && !*e && *first <= *last;
}
