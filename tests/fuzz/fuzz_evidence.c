/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What evidence preservation parses of outside input (log/evidence.c,
 * record/evidence.c):
 * - the input as a manifest through ev_manifest_parse (verify reads the ones
 *   on disk): a refusal gives a reason; an accepted one keeps to its bounds,
 *   names only files inside its directory or the shared store, and written
 *   again parses to the same entries;
 * - the input as a process's environment through ev_env_redact: as many
 *   entries come out as went in, and no secret's value is left;
 * - each line of the input as a line of /proc/PID/net/tcp through
 *   ev_parse_net_line: the text written is bounded and terminated; and as a
 *   line of /proc/PID/net/unix through procfs_parse_unix_inode (which
 *   record/procfs.c uses for EXISTING's standard descriptors).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "log/evidence.h"
#include "record/evidence.h"
#include "record/procfs.h"

static struct strbuf out, text;

static void manifest(const char *s, size_t n)
{
	static struct ev_manifest m, back;
	char err[256] = "";
	if (ev_manifest_parse(s, n, &m, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0], "a refusal without a reason");
		return;
	}
	FUZZ_CHECK(m.n <= EVIDENCE_ENTRIES_MAX, "%zu entries", m.n);
	for (size_t i = 0; i < m.n; i++) {
		const struct ev_entry *e = &m.e[i];
		if (e->kept)
			FUZZ_CHECK(ev_entry_name_ok(e->name) && !strchr(e->name + 6, '/') &&
				       strlen(e->sha) == 64,
				   "entry %zu names \"%s\"", i, e->name);
	}
	sb_reset(&text);
	ev_manifest_write(&m, &text);
	FUZZ_CHECK(ev_manifest_parse(text.data, text.len, &back, err, sizeof(err)) == 0,
		   "what was written back is refused: %s", err);
	FUZZ_CHECK(back.n == m.n && back.pid == m.pid && back.start_ticks == m.start_ticks &&
		       strcmp(back.guid, m.guid) == 0 && strcmp(back.rule, m.rule) == 0,
		   "the manifest changed when written back");
	for (size_t i = 0; i < m.n; i++)
		FUZZ_CHECK(memcmp(&back.e[i], &m.e[i], sizeof(m.e[i])) == 0,
			   "entry %zu changed when written back", i);
}

static void environ_(const char *s, size_t n)
{
	size_t entries = 0;
	for (size_t off = 0; off < n;) {
		const char *z = memchr(s + off, '\0', n - off);
		entries++;
		off = z ? (size_t)(z - s) + 1 : n;
	}
	sb_reset(&out);
	unsigned red = ev_env_redact(s, n, &out);
	FUZZ_CHECK(red <= entries, "%u redacted of %zu", red, entries);
	size_t got = 0;
	for (size_t off = 0; off < out.len;) {
		const char *e = out.data + off;
		const char *z = memchr(e, '\0', out.len - off);
		FUZZ_CHECK(z, "an entry of the output without its NUL");
		size_t len = (size_t)(z - e);
		const char *eq = memchr(e, '=', len);
		if (eq && eq != e && ev_env_name_secret(e, (size_t)(eq - e)))
			FUZZ_CHECK(strcmp(eq + 1, "<redacted>") == 0, "a secret's value left: %.*s",
				   (int)(len > 80 ? 80 : len), e);
		got++;
		off += len + 1;
	}
	FUZZ_CHECK(got == entries, "%zu entries out of %zu", got, entries);
}

static void net_lines(const char *s, size_t n)
{
	for (size_t off = 0; off < n;) {
		const char *l = s + off;
		const char *nl = memchr(l, '\n', n - off);
		size_t ll = nl ? (size_t)(nl - l) : n - off;
		off += ll + 1;
		char txt[96];
		memset(txt, 'Z', sizeof(txt));
		uint64_t ino;
		int r = ev_parse_net_line(l, ll, &ino, txt, sizeof(txt));
		FUZZ_CHECK(r >= -1 && r <= 1, "returned %d", r);
		if (r == 1)
			FUZZ_CHECK(memchr(txt, '\0', sizeof(txt)), "the text is not terminated");
		uint64_t uino = 0;
		r = procfs_parse_unix_inode(l, ll, &uino);
		FUZZ_CHECK(r == 0 || r == -1, "unix line: returned %d", r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	const char *s = (const char *)data;
	manifest(s, size);
	environ_(s, size);
	net_lines(s, size);
	return 0;
}
