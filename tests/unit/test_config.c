/* SPDX-License-Identifier: BSD-2-Clause */
/* The configuration file's parser (record/config.h) and the filter's
 * judgement in user space and its kernel tables (record/filter.h). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_fixture.h"
#include "record/config.h"
#include "record/filter.h"
#include "test.h"

static int parse(struct om_config *c, const char *text, char *err, size_t errsize)
{
	config_init(c);
	err[0] = '\0';
	return config_parse(c, "t.conf", text, strlen(text), err, errsize);
}

/* text must be refused, with a message that starts with where and holds why */
#define CHECK_REFUSED(text, where, why)                                                            \
	do {                                                                                       \
		struct om_config c_;                                                               \
		char e_[1024];                                                                     \
		int rc_ = parse(&c_, text, e_, sizeof(e_));                                        \
		config_free(&c_);                                                                  \
		if (rc_ != -1)                                                                     \
			TEST_FAIL_("accepted: %s", text);                                          \
		if (strncmp(e_, where, strlen(where)) != 0 || !strstr(e_, why))                    \
			TEST_FAIL_("message \"%s\", want \"%s...%s\"", e_, where, why);            \
	} while (0)

TEST(config_full_file)
{
	const char *text = "# onmitsu\n"
			   "[record]\n"
			   "log-dir = /srv/log\n"
			   "format = jsonl\r\n"
			   "rotate-size = 32M\n"
			   "rotate-age = 12h\n"
			   "keep-size = 2G\n"
			   "keep-age = 30d\n"
			   "compress-level = 3\n"
			   "seal-key = none\n"
			   "seal-interval = 1m\n"
			   "syslog = 192.0.2.10:514\n"
			   "ring-size = 8M\n"
			   "cmdline-max = 4096\n"
			   "\n"
			   "[exclude backups]\n"
			   "  exe = /usr/bin/rsync , /usr/bin/tar\n"
			   "uid = 0, 34\n"
			   "; a comment\n"
			   "[exclude lan]\n"
			   "dst = 192.0.2.0/24, 2001:db8::/32, 198.51.100.7\n"
			   "port = 53, 8000-8099\n"
			   "direction = out\n"
			   "proto = udp\n"
			   "[include web]\n"
			   "event = net\n"
			   "exe-prefix = /opt/web/\n";
	struct om_config c;
	char err[1024];
	CHECK_EQ_INT(parse(&c, text, err, sizeof(err)), 0);
	CHECK(c.loaded);
	CHECK_EQ_INT(c.nrules, 3);
	CHECK_EQ_STR(c.rules[0].name, "backups");
	CHECK(!c.rules[0].include);
	CHECK_EQ_INT(c.rules[0].exe.n, 2);
	CHECK_EQ_STR(c.rules[0].exe.v[1], "/usr/bin/tar");
	CHECK_EQ_INT(c.rules[0].nuids, 2);
	CHECK_EQ_INT(c.rules[0].uids[1], 34);
	CHECK_EQ_INT(c.rules[0].events, CFG_FILTERABLE);
	CHECK_EQ_INT(c.rules[1].ndst, 3);
	CHECK_EQ_INT(c.rules[1].dst[0].len, 24);
	CHECK_EQ_INT(c.rules[1].dst[2].len, 32);
	CHECK_EQ_INT(c.rules[1].dst[1].family, AF_INET6);
	CHECK_EQ_INT(c.rules[1].nports, 2);
	CHECK_EQ_INT(c.rules[1].port_lo[1], 8000);
	CHECK_EQ_INT(c.rules[1].port_hi[1], 8099);
	CHECK_EQ_INT(c.rules[1].events, 1u << OM_EVENT_NET);
	CHECK_EQ_INT(c.rules[1].dirs, CFG_DIR_OUT);
	CHECK_EQ_INT(c.rules[1].protos, CFG_PROTO_UDP);
	CHECK(c.rules[2].include);
	CHECK_EQ_INT(c.rules[2].events, 1u << OM_EVENT_NET);
	CHECK_EQ_INT(c.rules[2].line, 25);

	struct record_settings set;
	record_settings_init(&set);
	CHECK_EQ_INT(config_apply(&c, &set, err, sizeof(err)), 0);
	CHECK_EQ_STR(set.dir, "/srv/log");
	CHECK_EQ_INT(set.ls.w.format, LOG_FORMAT_JSONL);
	CHECK_EQ_INT(set.ls.w.rotate_size, 32u << 20);
	CHECK_EQ_INT(set.ls.w.rotate_age, 12 * 3600);
	CHECK_EQ_INT(set.ls.w.keep_size, 2ull << 30);
	CHECK_EQ_INT(set.ls.w.keep_age, 30 * 86400);
	CHECK_EQ_INT(set.ls.w.compress_level, 3);
	CHECK(set.ls.w.seal_key == NULL && set.ls.seal_key_given);
	CHECK_EQ_INT(set.ls.w.seal_interval, 60);
	CHECK_EQ_STR(set.ls.syslog, "192.0.2.10:514");
	CHECK_EQ_INT(set.ring, 8u << 20);
	CHECK_EQ_INT(set.cmdline_max, 4096);
	config_free(&c);
}

TEST(config_empty_and_comments)
{
	struct om_config c;
	char err[256];
	CHECK_EQ_INT(parse(&c, "", err, sizeof(err)), 0);
	CHECK_EQ_INT(c.nrules, 0);
	config_free(&c);
	CHECK_EQ_INT(parse(&c, "# nothing\n\n   \t\n[record]\n# still nothing", err, sizeof(err)),
		     0);
	config_free(&c);
}

TEST(config_refused_unknown_key)
{
	CHECK_REFUSED("[record]\nlogdir = /x\n", "t.conf:2: ", "unknown key \"logdir\"");
	CHECK_REFUSED("[exclude a]\nexecutable = /bin/x\n",
		      "t.conf:2: ", "unknown key \"executable\" in a rule");
	CHECK_REFUSED("[record]\n[filters]\n", "t.conf:2: ", "unknown section [filters]");
}

TEST(config_refused_bad_value)
{
	CHECK_REFUSED("[record]\nrotate-size = 10\n", "t.conf:2: ", "bad rotate-size \"10\"");
	CHECK_REFUSED("[record]\nformat = xml\n", "t.conf:2: ", "want csv or jsonl");
	CHECK_REFUSED("\n[record]\ncompress-level = 20\n",
		      "t.conf:3: ", "0 (no compression) to 19");
	CHECK_REFUSED("[record]\nring-size = 3M\n", "t.conf:2: ", "power of two");
	CHECK_REFUSED("[record]\nsyslog = host\n", "t.conf:2: ", "HOST:PORT");
	CHECK_REFUSED("[record]\nkeep-age = soon\n", "t.conf:2: ", "bad keep-age \"soon\"");
	CHECK_REFUSED("[record]\nlog-dir =\n", "t.conf:2: ", "no value");
	CHECK_REFUSED("[record]\nlog-dir = -\n",
		      "t.conf:2: ", "bad log-dir \"-\": want a directory");
	CHECK_REFUSED("[exclude a]\nuid = root\n", "t.conf:2: ", "uid: bad value \"root\"");
	CHECK_REFUSED("[exclude a]\nuid = 4294967295\n", "t.conf:2: ", "uid: bad value");
	CHECK_REFUSED("[exclude a]\nport = 0\n", "t.conf:2: ", "port: bad value \"0\"");
	CHECK_REFUSED("[exclude a]\nport = 90-80\n", "t.conf:2: ", "port: bad value \"90-80\"");
	CHECK_REFUSED("[exclude a]\nport = 65536\n", "t.conf:2: ", "port: bad value");
	CHECK_REFUSED("[exclude a]\nexe = bin/x\n", "t.conf:2: ", "not an absolute path");
	CHECK_REFUSED("[exclude a]\nexe = /usr/bin/\n", "t.conf:2: ", "ends in '/'");
	CHECK_REFUSED("[exclude a]\ndirection = both\n", "t.conf:2: ", "want in or out");
	CHECK_REFUSED("[exclude a]\nproto = sctp\n", "t.conf:2: ", "proto: bad value \"sctp\"");
	CHECK_REFUSED("[exclude a]\nevent = FORK\n", "t.conf:2: ", "FORK cannot be filtered");
	CHECK_REFUSED("[exclude a]\nevent = EXIT\n", "t.conf:2: ", "EXIT cannot be filtered");
	CHECK_REFUSED("[exclude a]\nevent = LOGIN\n", "t.conf:2: ", "unknown kind \"LOGIN\"");
	CHECK_REFUSED("[exclude a]\nuid = 1,,2\n", "t.conf:2: ", "an empty value");
	CHECK_REFUSED("[exclude a]\ncgroup = system.slice\n", "t.conf:2: ", "not a cgroup path");
	CHECK_REFUSED("[exclude a]\ncgroup = /a/../b\n", "t.conf:2: ", ". or .. step");
	CHECK_REFUSED("[exclude a]\nevent = EXEC\ndst = 192.0.2.0/24\n",
		      "t.conf:1: ", "apply to NET records only");
	CHECK_REFUSED("[exclude a]\n", "t.conf:1: ", "has no condition");
	CHECK_REFUSED("[exclude a b]\nuid = 1\n", "t.conf:1: ", "bad rule name \"a b\"");
	CHECK_REFUSED("[exclude a]\n= 1\n", "t.conf:2: ", "without a key");
	CHECK_REFUSED("[exclude a]\nuid 1\n", "t.conf:2: ", "want \"key = value\"");
	CHECK_REFUSED("[record\n", "t.conf:1: ", "must end with ']'");
}

TEST(config_refused_bad_cidr)
{
	CHECK_REFUSED("[exclude a]\ndst = 192.0.2.1/24\n", "t.conf:2: ", "bits set past");
	CHECK_REFUSED("[exclude a]\ndst = 192.0.2.0/33\n", "t.conf:2: ", "bad address");
	CHECK_REFUSED("[exclude a]\ndst = 2001:db8::/129\n", "t.conf:2: ", "bad address");
	CHECK_REFUSED("[exclude a]\ndst = 192.0.2/24\n", "t.conf:2: ", "bad address");
	CHECK_REFUSED("[exclude a]\ndst = 192.0.2.0/\n", "t.conf:2: ", "bad address");
	CHECK_REFUSED("[exclude a]\ndst = 192.0.2.0/2x\n", "t.conf:2: ", "bad address");
	CHECK_REFUSED("[exclude a]\ndst = example.com\n", "t.conf:2: ", "bad address");
	CHECK_REFUSED("[exclude a]\ndst = 2001:db8::1/64\n", "t.conf:2: ", "bits set past");
}

TEST(config_refused_duplicate)
{
	CHECK_REFUSED("[record]\nformat = csv\nformat = csv\n",
		      "t.conf:3: ", "duplicate key format (first at line 2)");
	CHECK_REFUSED("[record]\n[record]\n", "t.conf:2: ", "duplicate section [record]");
	CHECK_REFUSED("[exclude a]\nuid = 1\n[include a]\nuid = 2\n",
		      "t.conf:3: ", "duplicate rule name \"a\" (first at line 1)");
	CHECK_REFUSED("[exclude a]\nuid = 1\nuid = 2\n", "t.conf:3: ", "duplicate key uid");
}

TEST(config_refused_missing_section)
{
	CHECK_REFUSED("format = csv\n", "t.conf:1: ", "outside a section");
	CHECK_REFUSED("# hello\n\nuid = 0\n[exclude a]\nuid = 1\n",
		      "t.conf:3: ", "outside a section");
}

TEST(config_refused_overlong_line_nul_control)
{
	size_t n = CFG_LINE_MAX + 20;
	char *big = malloc(n + 32);
	CHECK(big);
	strcpy(big, "[record]\n# ");
	memset(big + strlen(big), 'x', CFG_LINE_MAX);
	strcat(big, "\n");
	CHECK_REFUSED(big, "t.conf:2: ", "line longer than 4096 bytes");
	free(big);

	struct om_config c;
	char err[512];
	const char with_nul[] = "[record]\nformat = c\0sv\n";
	config_init(&c);
	CHECK_EQ_INT(config_parse(&c, "t.conf", with_nul, sizeof(with_nul) - 1, err, sizeof(err)),
		     -1);
	config_free(&c);
	CHECK(strncmp(err, "t.conf:2: ", 10) == 0 && strstr(err, "NUL byte at column 11"));
	CHECK_REFUSED("[record]\nformat = c\x1bsv\n", "t.conf:2: ", "control byte 0x1b");
	/* a file past the size limit */
	char *huge = calloc(1, CFG_FILE_MAX + 2);
	CHECK(huge);
	memset(huge, '\n', CFG_FILE_MAX + 1);
	config_init(&c);
	CHECK_EQ_INT(config_parse(&c, "t.conf", huge, CFG_FILE_MAX + 1, err, sizeof(err)), -1);
	config_free(&c);
	free(huge);
	CHECK(strstr(err, "larger than"));
}

TEST(config_refused_too_many)
{
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i <= CFG_MAX_RULES; i++)
		sb_addf(&sb, "[exclude r%d]\nuid = %d\n", i, i);
	char where[32];
	snprintf(where, sizeof(where), "t.conf:%d: ", 2 * CFG_MAX_RULES + 1);
	CHECK_REFUSED(sb_str(&sb), where, "too many rules: at most 64");
	sb_reset(&sb);
	sb_adds(&sb, "[exclude a]\nuid = 0");
	for (int i = 1; i <= CFG_MAX_VALUES; i++)
		sb_addf(&sb, ",%d", i);
	CHECK_REFUSED(sb_str(&sb), "t.conf:2: ", "more than 256 values");
	sb_free(&sb);
}

/* ---------------------------------------------------------------- loading */

TEST(config_load_file)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	char path[512], err[1024];
	snprintf(path, sizeof(path), "%s/onmitsu.conf", dir);
	struct om_config c;
	config_init(&c);
	/* missing: fine for the default, an error for --config */
	CHECK_EQ_INT(config_load(&c, path, false, err, sizeof(err)), 0);
	CHECK(!c.loaded);
	CHECK_EQ_INT(config_load(&c, path, true, err, sizeof(err)), -1);
	CHECK(strstr(err, path));
	FILE *f = fopen(path, "w");
	CHECK(f);
	fputs("[record]\nrotate-size = 1M\n[exclude x]\nuid = 7\n", f);
	fclose(f);
	chmod(path, 0644);
	CHECK_EQ_INT(config_load(&c, path, true, err, sizeof(err)), 1);
	CHECK(c.loaded);
	CHECK_EQ_INT(c.nrules, 1);
	char hex[65];
	config_hash_hex(&c, hex);
	CHECK_EQ_INT(strlen(hex), 64);
	config_free(&c);
	/* others may write it: refused */
	chmod(path, 0666);
	config_init(&c);
	CHECK_EQ_INT(config_load(&c, path, true, err, sizeof(err)), -1);
	CHECK(strstr(err, "cannot read the configuration"));
	config_free(&c);
	chmod(path, 0600);
	/* a link is not followed */
	char link[512];
	snprintf(link, sizeof(link), "%s/link.conf", dir);
	CHECK_EQ_INT(symlink(path, link), 0);
	config_init(&c);
	CHECK_EQ_INT(config_load(&c, link, true, err, sizeof(err)), -1);
	config_free(&c);
	/* a bad file names its line */
	f = fopen(path, "w");
	CHECK(f);
	fputs("[record]\n\nrotate-size = big\n", f);
	fclose(f);
	config_init(&c);
	CHECK_EQ_INT(config_load(&c, path, true, err, sizeof(err)), -1);
	char want[600];
	snprintf(want, sizeof(want), "%s:3: bad rotate-size \"big\"", path);
	CHECK(strncmp(err, want, strlen(want)) == 0);
	config_free(&c);
	lf_rm_rf(dir);
	free(dir);
}

/* ---------------------------------------------------------------- judging */

static void subject(struct filter_subject *s, enum om_event e, int64_t uid, const char *exe)
{
	memset(s, 0, sizeof(*s));
	s->event = e;
	s->uid = uid;
	s->exe = exe;
	s->exe_len = exe ? strlen(exe) : 0;
	s->dir = -1;
	s->dport = OM_NONE;
}

static void net(struct filter_subject *s, const char *dst, int port, int dir, int proto)
{
	s->family = strchr(dst, ':') ? AF_INET6 : AF_INET;
	inet_pton(s->family, dst, s->daddr);
	s->dport = port;
	s->dir = dir;
	s->proto = proto;
}

TEST(filter_verdicts)
{
	const char *text = "[exclude nobody]\nuid = 65534\n"
			   "[exclude lan]\ndst = 192.0.2.0/24, 2001:db8::/32\nport = 80-90\n"
			   "[exclude opt]\nexe-prefix = /opt/\nevent = EXEC, NET\n"
			   "[exclude out53]\ndirection = out\nport = 53\nproto = udp\n";
	struct om_config c;
	char err[512];
	CHECK_EQ_INT(parse(&c, text, err, sizeof(err)), 0);
	struct filter f;
	filter_build(&f, &c, NULL);
	struct filter_subject s;
	int rule = 99;
	/* by uid: all kinds but FORK/EXIT, in user space only when not judged */
	subject(&s, OM_EVENT_EXEC, 65534, "/bin/true");
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 1);
	CHECK_EQ_INT(rule, 0);
	CHECK_EQ_INT(filter_verdict(&f, &s, true, &rule), 0); /* the kernel's rule */
	subject(&s, OM_EVENT_EXISTING, 65534, "/bin/true");
	CHECK_EQ_INT(filter_verdict(&f, &s, true, &rule), 1); /* made in user space */
	subject(&s, OM_EVENT_FORK, 65534, "/bin/true");
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 0);
	subject(&s, OM_EVENT_EXIT, 65534, "/bin/true");
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 0);
	subject(&s, OM_EVENT_EXEC, 1000, "/bin/true");
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 0);
	/* CIDR and port, both */
	subject(&s, OM_EVENT_NET, 1000, "/bin/curl");
	net(&s, "192.0.2.77", 85, OM_DIR_OUT, OM_FP_TCP);
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 1);
	CHECK_EQ_INT(rule, 1);
	net(&s, "192.0.3.77", 85, OM_DIR_OUT, OM_FP_TCP);
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 0);
	net(&s, "192.0.2.77", 91, OM_DIR_OUT, OM_FP_TCP);
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 0);
	net(&s, "2001:db8:1::9", 80, OM_DIR_IN, OM_FP_UDP);
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 1);
	net(&s, "192.0.2.77", 85, OM_DIR_OUT, OM_FP_ICMP); /* ICMP has no port */
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 0);
	/* a prefix: user space, even for live events */
	subject(&s, OM_EVENT_EXEC, 1000, "/opt/app/bin/x");
	CHECK_EQ_INT(filter_verdict(&f, &s, true, &rule), 1);
	CHECK_EQ_INT(rule, 2);
	subject(&s, OM_EVENT_MODLOAD, 1000, "/opt/app/bin/x"); /* event = EXEC, NET only */
	CHECK_EQ_INT(filter_verdict(&f, &s, true, &rule), 0);
	subject(&s, OM_EVENT_EXEC, 1000, "/optional");
	CHECK_EQ_INT(filter_verdict(&f, &s, true, &rule), 0);
	/* direction and proto */
	subject(&s, OM_EVENT_NET, 1000, NULL);
	net(&s, "198.51.100.1", 53, OM_DIR_OUT, OM_FP_UDP);
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 1);
	CHECK_EQ_INT(rule, 3);
	net(&s, "198.51.100.1", 53, OM_DIR_IN, OM_FP_UDP);
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 0);
	net(&s, "198.51.100.1", 53, OM_DIR_OUT, OM_FP_TCP);
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 0);
	/* what the kernel decides: every rule but the prefix one */
	CHECK_EQ_INT(f.kernel, 0xb);
	filter_free(&f);
	config_free(&c);
}

TEST(filter_include)
{
	const char *text = "[include web]\nevent = NET\nport = 443\n"
			   "[exclude internal]\ndst = 10.0.0.0/8\n";
	struct om_config c;
	char err[512];
	CHECK_EQ_INT(parse(&c, text, err, sizeof(err)), 0);
	struct filter f;
	filter_build(&f, &c, NULL);
	struct filter_subject s;
	int rule = 99;
	subject(&s, OM_EVENT_NET, 1000, NULL);
	net(&s, "198.51.100.1", 443, OM_DIR_OUT, OM_FP_TCP);
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 0);
	net(&s, "198.51.100.1", 80, OM_DIR_OUT, OM_FP_TCP);
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 1);
	CHECK_EQ_INT(rule, -1); /* no include rule matched */
	/* exclude wins over include */
	net(&s, "10.1.2.3", 443, OM_DIR_OUT, OM_FP_TCP);
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 1);
	CHECK_EQ_INT(rule, 1);
	/* include rules for NET leave the other kinds alone */
	subject(&s, OM_EVENT_EXEC, 1000, "/bin/x");
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 0);
	/* the kernel decides NET's include rules: it has them all */
	CHECK_EQ_INT(f.gen.include_decides, 1u << OM_K_NET);
	/* so nothing is left to judge here for a live NET, but EXISTING is */
	CHECK(!filter_judges(&f, OM_EVENT_NET, true));
	CHECK(filter_judges(&f, OM_EVENT_NET, false));
	CHECK(filter_judges(&f, OM_EVENT_EXISTING, true));
	CHECK(!filter_judges(&f, OM_EVENT_FORK, false));
	filter_free(&f);
	config_free(&c);
}

TEST(filter_tables)
{
	const char *text = "[exclude a]\ndst = 10.0.0.0/8\nuid = 5\n"
			   "[exclude b]\ndst = 10.1.0.0/16\nport = 22\n"
			   "[exclude c]\nuid = 5, 6\n"
			   "[exclude d]\nexe-prefix = /opt/\n";
	struct om_config c;
	char err[512];
	CHECK_EQ_INT(parse(&c, text, err, sizeof(err)), 0);
	struct filter f;
	filter_build(&f, &c, NULL);
	struct filter_tables t;
	filter_tables_build(&t, &f);
	CHECK_EQ_INT(f.kernel, 0x7);
	CHECK_EQ_INT(t.nuids, 2);
	CHECK_EQ_INT(t.uids[0].uid, 5);
	CHECK_EQ_INT(t.uids[0].mask, 0x5);
	CHECK_EQ_INT(t.uids[1].mask, 0x4);
	CHECK_EQ_INT(t.ndsts, 2);
	/* the /16 carries the /8's rule too: the trie answers the longest only */
	CHECK_EQ_INT(t.dsts[0].mask, 0x1);
	CHECK_EQ_INT(t.dsts[1].mask, 0x3);
	CHECK(t.ports);
	CHECK_EQ_INT(t.ports[22], 0x2);
	CHECK_EQ_INT(t.ports[23], 0);
	/* rules without a condition pass it */
	CHECK_EQ_INT(t.gen.wild[OM_FF_UID] & 0x7, 0x2);
	CHECK_EQ_INT(t.gen.wild[OM_FF_DST] & 0x7, 0x4);
	CHECK_EQ_INT(t.gen.wild[OM_FF_PORT] & 0x7, 0x5);
	CHECK_EQ_INT(t.gen.exclude, 0x7);
	CHECK_EQ_INT(t.gen.kind_rules[OM_K_NET], 0x7);
	CHECK_EQ_INT(t.gen.kind_rules[OM_K_EXEC], 0x4); /* a and b name NET fields */
	CHECK_EQ_INT(t.gen.kind_rules[OM_K_FORK], 0);
	filter_tables_free(&t);
	filter_free(&f);
	config_free(&c);
}

TEST(filter_exe_by_inode_and_missing)
{
	char *dir = lf_tmpdir();
	CHECK(dir);
	char exe[512];
	snprintf(exe, sizeof(exe), "%s/prog", dir);
	FILE *fp = fopen(exe, "w");
	CHECK(fp);
	fclose(fp);
	struct stat st;
	CHECK_EQ_INT(stat(exe, &st), 0);
	struct strbuf text = STRBUF_INIT, warnings = STRBUF_INIT;
	sb_addf(&text, "[exclude p]\nexe = %s, /nonexistent/x\n", exe);
	struct om_config c;
	char err[512];
	CHECK_EQ_INT(parse(&c, sb_str(&text), err, sizeof(err)), 0);
	struct filter f;
	struct filter_env env = {.cgroup_root = dir, .warnings = &warnings};
	filter_build(&f, &c, &env);
	CHECK(strstr(sb_str(&warnings), "t.conf:1: [exclude p] exe /nonexistent/x"));
	CHECK_EQ_INT(f.ids[0].nexe, 1);
	struct filter_tables t;
	filter_tables_build(&t, &f);
	CHECK_EQ_INT(t.nfiles, 1);
	CHECK_EQ_INT(t.files[0].file.ino, st.st_ino);
	CHECK_EQ_INT(t.files[0].file.dev, filter_kdev(st.st_dev));
	CHECK_EQ_INT(t.files[0].exe, 1);
	/* judged in user space (EXISTING) by path or by inode */
	struct filter_subject s;
	int rule;
	subject(&s, OM_EVENT_EXISTING, 0, "/elsewhere/prog");
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 0);
	s.have_attrs = true;
	s.attrs.exe_dev = filter_kdev(st.st_dev);
	s.attrs.exe_ino = st.st_ino;
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 1);
	subject(&s, OM_EVENT_EXISTING, 0, exe);
	CHECK_EQ_INT(filter_verdict(&f, &s, false, &rule), 1);
	filter_tables_free(&t);
	filter_free(&f);
	config_free(&c);
	sb_free(&text);
	sb_free(&warnings);
	lf_rm_rf(dir);
	free(dir);
}

/* The example the package installs: excludes nothing, and names every key. */
TEST(config_example_file)
{
	char path[512], err[1024];
	snprintf(path, sizeof(path), "%s/../../etc/onmitsu.conf", test_data_dir());
	FILE *f = fopen(path, "r");
	CHECK(f);
	static char buf[CFG_FILE_MAX];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	struct om_config c;
	config_init(&c);
	CHECK_EQ_INT(config_parse(&c, path, buf, n, err, sizeof(err)), 0);
	CHECK_EQ_INT(c.nrules, 0);
	for (int s = 0; s < CFG_S_COUNT; s++)
		CHECK_EQ_INT(c.value_line[s], 0);
	config_free(&c);
	for (int s = 0; s < CFG_S_COUNT; s++) {
		char key[64];
		snprintf(key, sizeof(key), "\n#%s = ", cfg_setting_name((enum cfg_setting)s));
		if (!strstr(buf, key))
			TEST_FAIL_("the example does not document %s", key + 2);
	}
	for (int fl = 0; fl < CFG_F_COUNT; fl++) {
		char key[64];
		snprintf(key, sizeof(key), "#   %s = ", cfg_field_name((enum cfg_field)fl));
		if (!strstr(buf, key))
			TEST_FAIL_("the example does not document %s", key + 4);
	}
}
