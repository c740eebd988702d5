/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `onmitsu verify` over a log directory (log/verify.c). The input is the
 * directory, written as files, each after a line
 *     ==> NAME <==
 * (as `head` prints several files). NAME is onmitsu.csv, onmitsu.jsonl or
 * a closed segment's name (onmitsu-20261125T191317.123456Z-000000000042.csv);
 * a name ending in .zst is compressed with zstd by the harness, unless the
 * line ends in "<== raw": then the bytes are written as they are, so the
 * decompressor sees damaged frames too. Text before the first such line is
 * onmitsu.csv. At most 4 files; another name is skipped.
 * verify runs without a key, then with the key the seed generator seals
 * with (tests/fuzz/seeds.c) when no epoch is large (see max_epoch); either
 * way it must end, with a result that agrees with its counts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zstd.h>

#include "fuzz.h"
#include "fuzz_key.h"
#include "log/segment.h"
#include "log/verify.h"

#define MAX_FILES 4
#define HEAD "==> "

static bool good_name(const char *name)
{
	if (strcmp(name, "onmitsu.csv") == 0 || strcmp(name, "onmitsu.jsonl") == 0)
		return true;
	return segment_name_parse(name, NULL, NULL, NULL, NULL);
}

static void write_one(const char *dir, const char *name, const char *p, size_t n, bool raw)
{
	size_t nl = strlen(name);
	if (!raw && nl > 4 && strcmp(name + nl - 4, ".zst") == 0) {
		size_t cap = ZSTD_compressBound(n);
		void *z = malloc(cap ? cap : 1);
		FUZZ_CHECK(z != NULL, "out of memory");
		size_t zn = ZSTD_compress(z, cap, p, n, 1);
		FUZZ_CHECK(!ZSTD_isError(zn), "zstd: %s", ZSTD_getErrorName(zn));
		fuzz_write_file(dir, name, z, zn);
		free(z);
		return;
	}
	fuzz_write_file(dir, name, p, n);
}

/* The start of the next line that begins with HEAD, searching from p (a
 * line start); NULL when there is none. */
static const char *next_head(const char *text, const char *p, const char *end)
{
	size_t hl = strlen(HEAD);
	if (p == text && (size_t)(end - p) >= hl && memcmp(p, HEAD, hl) == 0)
		return p;
	if (p > text)
		p--; /* the newline that ends the line before */
	const char *q = memmem(p, (size_t)(end - p), "\n" HEAD, hl + 1);
	return q ? q + 1 : NULL;
}

/* Write the files of the input; returns how many. */
static int write_dir(const char *dir, const char *text, size_t size)
{
	const char *end = text + size, *cur = text;
	char name[SEGMENT_NAME_MAX] = "onmitsu.csv";
	bool raw = false;
	int files = 0;
	const char *hdr = next_head(text, text, end);
	bool have = hdr != text; /* text before the first header is onmitsu.csv */
	for (;;) {
		const char *stop = hdr ? hdr : end;
		if (have && files < MAX_FILES && good_name(name)) {
			write_one(dir, name, cur, (size_t)(stop - cur), raw);
			files++;
		}
		if (!hdr)
			break;
		/* "==> NAME <==" or "==> NAME <== raw" */
		const char *le = memchr(hdr, '\n', (size_t)(end - hdr));
		const char *hend = le ? le : end;
		const char *ns = hdr + strlen(HEAD);
		const char *ne = memmem(ns, (size_t)(hend - ns), " <==", 4);
		have = ne && ne > ns && (size_t)(ne - ns) < sizeof(name) &&
		       !memchr(ns, '/', (size_t)(ne - ns)) && !memchr(ns, '\0', (size_t)(ne - ns));
		if (have) {
			memcpy(name, ns, (size_t)(ne - ns));
			name[ne - ns] = '\0';
			raw = (size_t)(hend - ne) == 8 && memcmp(ne + 4, " raw", 4) == 0;
		}
		cur = le ? le + 1 : end;
		hdr = cur < end ? next_head(text, cur, end) : NULL;
	}
	return files;
}

static void run_verify(const char *dir, const uint8_t *key0)
{
	/* FUZZ_VERBOSE=1: show verify's report, to see what an input does */
	bool verbose = getenv("FUZZ_VERBOSE") != NULL;
	FILE *out = verbose ? stderr : fopen("/dev/null", "w");
	FUZZ_CHECK(out != NULL, "/dev/null");
	struct verify_result res;
	int rc = log_verify(dir, key0, out, &res);
	if (!verbose)
		fclose(out);
	FUZZ_CHECK(rc >= -1 && rc <= 1, "rc %d", rc);
	if (rc == 0)
		FUZZ_CHECK(res.problems == 0, "intact with %llu problems",
			   (unsigned long long)res.problems);
	if (rc == 1)
		FUZZ_CHECK(res.problems > 0 && res.first_problem[0],
			   "not intact, no problem named");
	FUZZ_CHECK(res.seals_checked <= res.seals, "%llu seals checked of %llu",
		   (unsigned long long)res.seals_checked, (unsigned long long)res.seals);
	if (!key0)
		FUZZ_CHECK(res.seals_checked == 0, "seals checked without a key");
}

/* The largest "epoch=N" in the input. Checking a seal of epoch N derives
 * key N from key 0, N hashes, as it must (a log sealed every second for a
 * year has epochs in the tens of millions): an input is checked with the key
 * only when that stays small, so that each input takes milliseconds. */
static uint64_t max_epoch(const char *text, size_t size)
{
	uint64_t max = 0;
	const char *p = text, *end = text + size;
	while ((p = memmem(p, (size_t)(end - p), "epoch=", 6)) != NULL) {
		p += 6;
		uint64_t v = 0;
		int digits = 0;
		for (; p < end && *p >= '0' && *p <= '9' && digits < 19; p++, digits++)
			v = v * 10 + (uint64_t)(*p - '0');
		if (digits == 19 || v > max)
			max = digits == 19 ? UINT64_MAX : v;
	}
	return max;
}

#define MAX_KEYED_EPOCH 100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	const char *dir = fuzz_dir_fresh();
	if (write_dir(dir, (const char *)data, size) == 0)
		return 0;
	run_verify(dir, NULL);
	if (max_epoch((const char *)data, size) <= MAX_KEYED_EPOCH)
		run_verify(dir, fuzz_key0);
	return 0;
}
