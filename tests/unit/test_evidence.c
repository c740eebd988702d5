/* SPDX-License-Identifier: BSD-2-Clause */
/* Evidence preservation, the parts without /proc: redaction, the manifest,
 * its check against the files, the budget, the rules (log/evidence.c,
 * record/evidence.c). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log/evidence.h"
#include "log_fixture.h"
#include "record/evidence.h"
#include "test.h"
#include "util/hex.h"

TEST(evidence_secret_names)
{
	static const char *const secret[] = {
	    "AWS_SECRET_ACCESS_KEY",
	    "GITHUB_TOKEN",
	    "api_key",
	    "PGPASSWORD",
	    "DB_PASS",
	    "MYSQL_PWD",
	    "Credentials",
	    "HTTP_AUTHORIZATION",
	    "COOKIE_JAR",
	    "SESSION_ID",
	    "SSH_PRIVATE",
	    "passphrase",
	};
	static const char *const plain[] = {"PATH", "HOME",	  "PWD",  "OLDPWD", "LANG",
					    "TERM", "LD_PRELOAD", "USER", "SHELL"};
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (!ev_env_name_secret(secret[i], strlen(secret[i])))
			TEST_FAIL_("%s is not taken for a secret", secret[i]);
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (ev_env_name_secret(plain[i], strlen(plain[i])))
			TEST_FAIL_("%s is taken for a secret", plain[i]);
}

TEST(evidence_environ_redacted)
{
	static const char env[] =
	    "PATH=/usr/bin\0GITHUB_TOKEN=ghp_abc\0PLAIN=x=y\0"
	    "URL=https://u:pw@example.com/x\0NOURL=https://example.com/a:b@c\0"
	    "noequals\0=novalue\0LAST=1"; /* the last without its NUL */
	static const char want[] = "PATH=/usr/bin\0GITHUB_TOKEN=<redacted>\0PLAIN=x=y\0"
				   "URL=<redacted>\0NOURL=https://example.com/a:b@c\0"
				   "<redacted>\0<redacted>\0LAST=1\0";
	struct strbuf out = STRBUF_INIT;
	unsigned n = ev_env_redact(env, sizeof(env) - 1, &out);
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_INT(out.len, sizeof(want) - 1);
	CHECK(memcmp(out.data, want, out.len) == 0);
	sb_reset(&out);
	CHECK_EQ_INT(ev_env_redact("", 0, &out), 0);
	CHECK_EQ_INT(out.len, 0);
	sb_free(&out);
}

static void sample_manifest(struct ev_manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->pid = 4242;
	m->start_ticks = 123456;
	snprintf(m->guid, sizeof(m->guid), "0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b");
	snprintf(m->rule, sizeof(m->rule), "suspicious-exe-net");
	struct ev_entry *e = &m->e[m->n++];
	e->kept = true;
	snprintf(e->name, sizeof(e->name), "maps");
	e->size = 5;
	memset(e->sha, 'a', 64);
	snprintf(e->what, sizeof(e->what), "maps");
	e = &m->e[m->n++];
	snprintf(e->what, sizeof(e->what), "exe");
	snprintf(e->reason, sizeof(e->reason), "too_big");
}

TEST(evidence_manifest_round_trip)
{
	struct ev_manifest m, back;
	sample_manifest(&m);
	struct strbuf t = STRBUF_INIT;
	ev_manifest_write(&m, &t);
	char err[256];
	CHECK_EQ_INT(ev_manifest_parse(t.data, t.len, &back, err, sizeof(err)), 0);
	CHECK_EQ_INT(back.pid, 4242);
	CHECK_EQ_INT(back.start_ticks, 123456);
	CHECK_EQ_STR(back.guid, m.guid);
	CHECK_EQ_STR(back.rule, "suspicious-exe-net");
	CHECK_EQ_INT(back.n, 2);
	CHECK(back.e[0].kept);
	CHECK_EQ_STR(back.e[0].name, "maps");
	CHECK_EQ_INT(back.e[0].size, 5);
	CHECK(!back.e[1].kept);
	CHECK_EQ_STR(back.e[1].what, "exe");
	CHECK_EQ_STR(back.e[1].reason, "too_big");
	sb_free(&t);
}

TEST(evidence_manifest_refuses_hostile)
{
	static const char head[] =
	    EVIDENCE_MAGIC "\npid 1\nstart_ticks 2\n"
			   "guid 0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b\nrule inject\n";
	static const char sha[] =
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	const char *bad_lines[] = {
	    "file ../x 1 %s maps\n",	 "file /etc/passwd 1 %s maps\n",
	    "file .hidden 1 %s maps\n",	 "file files/abc 1 %s exe\n",
	    "file files 1 %s exe\n",	 "file maps -1 %s maps\n",
	    "file maps 1 %s MAPS\n",	 "file maps 1 %s\n",
	    "file maps  1 %s maps\n",	 "unknown thing %s\n",
	    "not_kept exe too big %s\n", "file maps 99999999999999999999 %s maps\n",
	};
	char buf[1024], err[256];
	struct ev_manifest m;
	snprintf(buf, sizeof(buf), "%sfile maps 1 %s maps\n", head, sha);
	CHECK_EQ_INT(ev_manifest_parse(buf, strlen(buf), &m, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		/* each line with sha where its %s is */
		const char *at = strstr(bad_lines[i], "%s");
		snprintf(buf, sizeof(buf), "%s%.*s%s%s", head, (int)(at - bad_lines[i]),
			 bad_lines[i], sha, at + 2);
		if (ev_manifest_parse(buf, strlen(buf), &m, err, sizeof(err)) == 0)
			TEST_FAIL_("accepted: %s", bad_lines[i]);
	}
	/* no magic, no newline at the end, a NUL, a field missing */
	CHECK(ev_manifest_parse("pid 1\n", 6, &m, err, sizeof(err)) != 0);
	CHECK(ev_manifest_parse(head, sizeof(head) - 2, &m, err, sizeof(err)) != 0);
	memcpy(buf, head, sizeof(head));
	buf[20] = '\0';
	CHECK(ev_manifest_parse(buf, sizeof(head) - 1, &m, err, sizeof(err)) != 0);
	static const char nopid[] =
	    EVIDENCE_MAGIC "\nstart_ticks 2\n"
			   "guid 0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b\nrule inject\n";
	CHECK(ev_manifest_parse(nopid, sizeof(nopid) - 1, &m, err, sizeof(err)) != 0);
	/* more entries than a manifest holds */
	struct strbuf t = STRBUF_INIT;
	sb_adds(&t, head);
	for (int i = 0; i <= EVIDENCE_ENTRIES_MAX; i++)
		sb_adds(&t, "not_kept maps exited\n");
	CHECK(ev_manifest_parse(t.data, t.len, &m, err, sizeof(err)) != 0);
	sb_free(&t);
}

TEST(evidence_record_paths)
{
	CHECK(ev_record_path_ok("evidence/0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b", 45));
	CHECK(ev_record_path_ok("evidence/0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b.3", 47));
	CHECK(!ev_record_path_ok("evidence/0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b.0", 47));
	CHECK(!ev_record_path_ok("evidence/../../../../../../../../../../../etc", 45));
	CHECK(!ev_record_path_ok("/evidence/0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5", 45));
	CHECK(!ev_record_path_ok("evidence/0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b/x", 47));
	CHECK(ev_entry_name_ok("maps"));
	CHECK(!ev_entry_name_ok("files"));
	CHECK(!ev_entry_name_ok("MANIFEST"));
}

static void sha_hex(const void *p, size_t n, char out[65])
{
	uint8_t sha[32];
	unsigned int len = 0;
	EVP_Digest(p, n, sha, &len, EVP_sha256(), NULL);
	hex_encode(out, sha, 32);
}

#define GUID "0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b"

TEST(evidence_check_against_files)
{
	char *dir = lf_tmpdir();
	char p[1024], err[512], msha[65];
	snprintf(p, sizeof(p), "%s/evidence", dir);
	CHECK(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/evidence/files", dir);
	CHECK(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/evidence/" GUID, dir);
	CHECK(mkdir(p, 0700) == 0);
	static const char maps[] = "00400000-00401000 r-xp 0 08:01 1 /tmp/x\n";
	static const char exe[] = "\x7f"
				  "ELF fake";
	struct ev_manifest m;
	sample_manifest(&m);
	m.n = 0;
	struct ev_entry *e = &m.e[m.n++];
	e->kept = true;
	snprintf(e->name, sizeof(e->name), "maps");
	e->size = sizeof(maps) - 1;
	sha_hex(maps, e->size, e->sha);
	snprintf(e->what, sizeof(e->what), "maps");
	e = &m.e[m.n++];
	e->kept = true;
	e->size = sizeof(exe) - 1;
	char exe_sha[65];
	sha_hex(exe, e->size, exe_sha);
	memcpy(e->sha, exe_sha, 65);
	snprintf(e->name, sizeof(e->name), "files/%s", exe_sha);
	snprintf(e->what, sizeof(e->what), "exe");
	snprintf(p, sizeof(p), "%s/evidence/" GUID "/maps", dir);
	CHECK(lf_write(p, maps, sizeof(maps) - 1) == 0);
	snprintf(p, sizeof(p), "%s/evidence/files/%s", dir, e->sha);
	CHECK(lf_write(p, exe, sizeof(exe) - 1) == 0);
	struct strbuf t = STRBUF_INIT;
	ev_manifest_write(&m, &t);
	sha_hex(t.data, t.len, msha);
	snprintf(p, sizeof(p), "%s/evidence/" GUID "/MANIFEST", dir);
	CHECK(lf_write(p, t.data, t.len) == 0);
	int logfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(logfd >= 0);
	CHECK_EQ_INT(ev_check(logfd, "evidence/" GUID, msha, err, sizeof(err)), 0);

	/* the manifest's hash is not the record's */
	char other[65];
	memcpy(other, msha, 65);
	other[0] = other[0] == 'a' ? 'b' : 'a';
	CHECK(ev_check(logfd, "evidence/" GUID, other, err, sizeof(err)) != 0);
	CHECK(strstr(err, "MANIFEST") != NULL);
	/* a kept file changed */
	snprintf(p, sizeof(p), "%s/evidence/" GUID "/maps", dir);
	CHECK(lf_write(p, "tampered", 8) == 0);
	CHECK(ev_check(logfd, "evidence/" GUID, msha, err, sizeof(err)) != 0);
	CHECK(strstr(err, "maps") != NULL);
	CHECK(lf_write(p, maps, sizeof(maps) - 1) == 0);
	CHECK_EQ_INT(ev_check(logfd, "evidence/" GUID, msha, err, sizeof(err)), 0);
	/* the shared copy replaced by a link to the same bytes: not followed */
	char target[1024];
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	CHECK(lf_write(target, exe, sizeof(exe) - 1) == 0);
	snprintf(p, sizeof(p), "%s/evidence/files/%s", dir, e->sha);
	CHECK(unlink(p) == 0);
	CHECK(symlink(target, p) == 0);
	CHECK(ev_check(logfd, "evidence/" GUID, msha, err, sizeof(err)) != 0);
	CHECK(strstr(err, "exe") != NULL);
	/* a path outside evidence/ is refused before anything is opened */
	CHECK(ev_check(logfd, "evidence/../../etc", msha, err, sizeof(err)) != 0);
	close(logfd);
	sb_free(&t);
	lf_rm_rf(dir);
	free(dir);
}

TEST(evidence_budget)
{
	struct ev_budget b = {.max = 100, .used = 0};
	CHECK(ev_budget_take(&b, 60));
	CHECK(!ev_budget_take(&b, 41));
	CHECK_EQ_INT(b.used, 60);
	CHECK(ev_budget_take(&b, 40));
	CHECK(!ev_budget_take(&b, 1));
	struct ev_budget huge = {.max = UINT64_MAX - 1, .used = UINT64_MAX - 10};
	CHECK(!ev_budget_take(&huge, 20)); /* no wrap-around */
	CHECK(ev_budget_take(&huge, 9));
}

TEST(evidence_rules_and_suspicious_exes)
{
	unsigned r;
	CHECK_EQ_INT(ev_rules_parse("suspicious-exe-net, inject", &r), 0);
	CHECK_EQ_INT(r, (1u << EV_RULE_SUSPICIOUS_NET) | (1u << EV_RULE_INJECT));
	CHECK_EQ_INT(ev_rules_parse("none", &r), 0);
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(ev_rules_parse("reverse-shell,inject,suspicious-exe-net", &r), 0);
	CHECK_EQ_INT(r, EV_RULES_ALL);
	CHECK(ev_rules_parse("inject,", &r) != 0);
	CHECK(ev_rules_parse("injects", &r) != 0);
	CHECK(ev_rules_parse("", &r) != 0);
	CHECK(ev_exe_suspicious(OM_F_MEMFD, "/memfd:x", 8));
	CHECK(ev_exe_suspicious(OM_F_DELETED, "/usr/bin/x", 10));
	CHECK(ev_exe_suspicious(0, "/tmp/x", 6));
	CHECK(ev_exe_suspicious(0, "/var/tmp/x", 10));
	CHECK(ev_exe_suspicious(0, "/dev/shm/x", 10));
	CHECK(!ev_exe_suspicious(0, "/tmp/", 5));
	CHECK(!ev_exe_suspicious(0, "/tmpfoo/x", 9));
	CHECK(!ev_exe_suspicious(0, "/usr/bin/python3", 16));
	CHECK(!ev_exe_suspicious(0, NULL, 0));
	CHECK(ev_exec_reverse_shell("stdin=tcp stdout=tcp stderr=tcp stdio_proto=tcp "
				    "stdio_peer=192.0.2.1:4444 stdio_local=192.0.2.10:40312"));
	CHECK(ev_exec_reverse_shell("truncated=1 stdin=pipe stdout=udp stderr=tty"));
	CHECK(ev_exec_reverse_shell("stdin=socket"));
	CHECK(!ev_exec_reverse_shell("stdin=unix stdout=unix stderr=unix"));
	CHECK(!ev_exec_reverse_shell("stdin=pipe stdout=file stderr=tty"));
	CHECK(!ev_exec_reverse_shell("stdin=tcpx"));
	CHECK(!ev_exec_reverse_shell("xstdin=tcp"));
	CHECK(!ev_exec_reverse_shell("stdio_proto=tcp"));
	CHECK(!ev_exec_reverse_shell(""));
	CHECK(!ev_exec_reverse_shell(NULL));
}

TEST(evidence_proc_net_lines)
{
	uint64_t ino = 0;
	char out[192];
	static const char hdr[] = "  sl  local_address rem_address   st tx_queue rx_queue tr "
				  "tm->when retrnsmt   uid  timeout inode";
	CHECK_EQ_INT(ev_parse_net_line(hdr, sizeof(hdr) - 1, &ino, out, sizeof(out)), 0);
	static const char v4[] = "   3: 0100007F:A0B4 0100007F:115C 01 00000000:00000000 "
				 "00:00000000 00000000     0        0 157192 1 0000 20 4 30 10 -1";
	CHECK_EQ_INT(ev_parse_net_line(v4, sizeof(v4) - 1, &ino, out, sizeof(out)), 1);
	CHECK_EQ_INT(ino, 157192);
	CHECK_EQ_STR(out, "127.0.0.1:41140 127.0.0.1:4444 ESTABLISHED");
	static const char v6[] = "   0: 00000000000000000000000001000000:0016 "
				 "00000000000000000000000000000000:0000 0A 00000000:00000000 "
				 "00:00000000 00000000     0        0 2310 1 0000";
	CHECK_EQ_INT(ev_parse_net_line(v6, sizeof(v6) - 1, &ino, out, sizeof(out)), 1);
	CHECK_EQ_INT(ino, 2310);
	CHECK_EQ_STR(out, "[::1]:22 [::]:0 LISTEN");
	static const char *const bad[] = {
	    "",
	    "   3: 0100007F:A0B4",
	    "   3: 0100007G:A0B4 0100007F:115C 01 0:0 0:0 0 0 0 1",
	    "   3: 0100007F:A0B4 0100007F:115C 1 0:0 0:0 0 0 0 1",
	    "   3: 0100007F:A0B4 0100007F:115C 01 0:0 0:0 0 0 0 x1",
	    "   3: 0100007F:A0B 0100007F:115C 01 0:0 0:0 0 0 0 1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ev_parse_net_line(bad[i], strlen(bad[i]), &ino, out, sizeof(out)) != -1)
			TEST_FAIL_("accepted: \"%s\"", bad[i]);

	/* the fields themselves: network-order addresses, host-order ports */
	struct ev_net_entry e;
	CHECK_EQ_INT(ev_parse_net_entry(v4, sizeof(v4) - 1, &e), 1);
	static const uint8_t lo4[16] = {127, 0, 0, 1};
	CHECK(e.family == AF_INET && e.inode == 157192 && e.state == 1);
	CHECK(memcmp(e.laddr, lo4, 16) == 0 && memcmp(e.raddr, lo4, 16) == 0);
	CHECK_EQ_INT(e.lport, 41140);
	CHECK_EQ_INT(e.rport, 4444);
	CHECK_EQ_INT(ev_parse_net_entry(v6, sizeof(v6) - 1, &e), 1);
	static const uint8_t lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	CHECK(e.family == AF_INET6 && memcmp(e.laddr, lo6, 16) == 0 && e.lport == 22);
	/* an IPv4 local with an IPv6 remote is no line of one table */
	static const char mixed[] = "   3: 0100007F:A0B4 00000000000000000000000001000000:115C 01 "
				    "0:0 0:0 0 0 0 1";
	CHECK_EQ_INT(ev_parse_net_entry(mixed, sizeof(mixed) - 1, &e), -1);
}

#define FX(cond)                                                                                   \
	do {                                                                                       \
		if (!(cond))                                                                       \
			return -1;                                                                 \
	} while (0)

/* evidence/GUID with a manifest naming files/SHA of content; its time */
static int expire_fixture(const char *dir, const char *guid, const char *content, bool manifest,
			  time_t when)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/evidence/%s", dir, guid);
	FX(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/evidence/%s/maps", dir, guid);
	FX(lf_write(p, "m\n", 2) == 0);
	struct ev_manifest m;
	sample_manifest(&m);
	snprintf(m.guid, sizeof(m.guid), "%.36s", guid);
	m.n = 0;
	struct ev_entry *e = &m.e[m.n++];
	e->kept = true;
	e->size = strlen(content);
	char sha[65];
	sha_hex(content, e->size, sha);
	memcpy(e->sha, sha, 65);
	snprintf(e->name, sizeof(e->name), "files/%s", sha);
	snprintf(e->what, sizeof(e->what), "exe");
	snprintf(p, sizeof(p), "%s/evidence/files/%s", dir, sha);
	FX(lf_write(p, content, e->size) == 0);
	struct timespec ts[2] = {{.tv_sec = when}, {.tv_sec = when}};
	FX(utimensat(AT_FDCWD, p, ts, 0) == 0);
	if (manifest) {
		struct strbuf t = STRBUF_INIT;
		ev_manifest_write(&m, &t);
		snprintf(p, sizeof(p), "%s/evidence/%s/MANIFEST", dir, guid);
		FX(lf_write(p, t.data, t.len) == 0);
		FX(utimensat(AT_FDCWD, p, ts, 0) == 0);
		sb_free(&t);
	}
	snprintf(p, sizeof(p), "%s/evidence/%s", dir, guid);
	FX(utimensat(AT_FDCWD, p, ts, 0) == 0);
	return 0;
}

static bool exists(const char *dir, const char *rel)
{
	char p[1024];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

/* retention: the evidence older than the log's oldest record goes, with the
 * kept files no manifest left names; nothing else */
TEST(evidence_expire_with_the_log)
{
	char *dir = lf_tmpdir();
	char p[1024], sha[65];
	snprintf(p, sizeof(p), "%s/evidence", dir);
	CHECK(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/evidence/files", dir);
	CHECK(mkdir(p, 0700) == 0);
	time_t now = time(NULL), old = now - 7200;
	static const char A[] = "0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5a";	  /* old */
	static const char B[] = "0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5b";	  /* new */
	static const char C[] = "0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5c";	  /* old, no manifest */
	static const char D[] = "0b6e3f3a-1c2d-5e4f-8a9b-0c1d2e3f4a5d.2"; /* old, shares B's */
	CHECK_EQ_INT(expire_fixture(dir, A, "only A's", true, old), 0);
	CHECK_EQ_INT(expire_fixture(dir, B, "B's and D's", true, now), 0);
	CHECK_EQ_INT(expire_fixture(dir, C, "only C's", false, old), 0);
	/* D names the file B names: written twice, one copy */
	CHECK_EQ_INT(expire_fixture(dir, D, "B's and D's", true, old), 0);
	/* the shared file is old, but B names it */
	sha_hex("B's and D's", strlen("B's and D's"), sha);
	snprintf(p, sizeof(p), "%s/evidence/files/%s", dir, sha);
	struct timespec ts[2] = {{.tv_sec = old}, {.tv_sec = old}};
	CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0);
	/* a new file no manifest names yet (one being written) */
	char fresh[65];
	sha_hex("fresh", 5, fresh);
	snprintf(p, sizeof(p), "%s/evidence/files/%s", dir, fresh);
	CHECK(lf_write(p, "fresh", 5) == 0);
	/* not a name evidence writes: left alone */
	snprintf(p, sizeof(p), "%s/evidence/notes", dir);
	CHECK(mkdir(p, 0700) == 0);
	CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0);

	int logfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(logfd >= 0);
	size_t files = 0;
	uint64_t bytes = 0;
	CHECK_EQ_INT(ev_expire(logfd, now - 3600, &files, &bytes), 3);
	CHECK_EQ_INT(files, 2); /* A's and C's */
	CHECK(bytes > 0);
	char rel[200];
	snprintf(rel, sizeof(rel), "evidence/%s", A);
	CHECK(!exists(dir, rel));
	snprintf(rel, sizeof(rel), "evidence/%s", C);
	CHECK(!exists(dir, rel));
	snprintf(rel, sizeof(rel), "evidence/%s", D);
	CHECK(!exists(dir, rel));
	snprintf(rel, sizeof(rel), "evidence/%s/MANIFEST", B);
	CHECK(exists(dir, rel));
	snprintf(rel, sizeof(rel), "evidence/files/%s", sha);
	CHECK(exists(dir, rel));
	snprintf(rel, sizeof(rel), "evidence/files/%s", fresh);
	CHECK(exists(dir, rel));
	CHECK(exists(dir, "evidence/notes"));
	sha_hex("only A's", strlen("only A's"), sha);
	snprintf(rel, sizeof(rel), "evidence/files/%s", sha);
	CHECK(!exists(dir, rel));

	/* nothing older: nothing removed */
	CHECK_EQ_INT(ev_expire(logfd, now - 3600, &files, &bytes), 0);
	CHECK_EQ_INT(files, 0);
	close(logfd);
	lf_rm_rf(dir);
	free(dir);
}
