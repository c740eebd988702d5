/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The compressor's window (src/log/segment.c): from level 6 on it is capped at
 * 1 MiB, so that compressing a 16 MiB segment holds a few MiB of memory, not
 * 17 (issue 11: the recorder's peak resident size). A decoder limited to a
 * 1 MiB window reads what it writes; the segment reads back byte for byte.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "log/segment.h"
#include "log_fixture.h"
#include "test.h"
#include "util/strbuf.h"

TEST(compress_window_capped_at_one_mib)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	/* 3 MiB of log-like lines that do not repeat within a 1 MiB window */
	struct strbuf text = STRBUF_INIT;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	while (text.len < (3u << 20)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sb_addf(&text, "2026-12-02T08:00:00.%06uZ,%zu,NET,%u,,%016llx,,0,,,udp\n",
			(unsigned)(x % 1000000), text.len, (unsigned)(x >> 40),
			(unsigned long long)x);
	}
	const char *name = "onmitsu-20261202T080000.000000Z-000000000000.csv";
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	CHECK_EQ_INT(lf_write(p, text.data, text.len), 0);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dfd >= 0);
	char err[512];
	CHECK_EQ_INT(segment_compress(dfd, name, 9, NULL, err, sizeof(err)), 0);
	close(dfd);
	struct strbuf z = STRBUF_INIT;
	snprintf(p, sizeof(p), "%s/%s.zst", dir, name);
	CHECK_EQ_INT(lf_read(p, &z), 0);
	ZSTD_DCtx *d = ZSTD_createDCtx();
	CHECK(d != NULL);
	CHECK(
	    !ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, SEGMENT_ZSTD_WINDOW_LOG)));
	/* in pieces, as a streaming reader takes it (a whole frame with room
	 * for all of it would be decoded in one go, without the window check) */
	struct strbuf back = STRBUF_INIT;
	char out[65536];
	size_t in = 0, r = 1;
	while (in < z.len && r != 0) {
		size_t n = z.len - in < 4096 ? z.len - in : 4096;
		ZSTD_inBuffer ib = {z.data + in, n, 0};
		while (ib.pos < ib.size) {
			ZSTD_outBuffer ob = {out, sizeof(out), 0};
			r = ZSTD_decompressStream(d, &ob, &ib);
			if (ZSTD_isError(r))
				TEST_FAIL_("a 1 MiB window does not read it: %s",
					   ZSTD_getErrorName(r));
			sb_add(&back, out, ob.pos);
		}
		in += n;
	}
	CHECK_EQ_INT(r, 0); /* the frame is complete */
	CHECK_EQ_MEM(back.data, back.len, text.data, text.len);
	sb_free(&back);
	ZSTD_freeDCtx(d);
	sb_free(&z);
	sb_free(&text);
	lf_rm_rf(dir);
	free(dir);
}
