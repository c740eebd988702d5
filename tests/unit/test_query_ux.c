/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a new user meets first (issue 12): a missing log directory names
 * --log-dir, a permission error says to run as root or join the group that
 * may read the log, `record --log-dir -` is refused, and `correlate --help`
 * names every option. (Ports out of range: test_query.c; correlate without
 * a log and pcapng of several link types: test_pcap.c.)
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/options.h"
#include "log/segment.h"
#include "query/commands.h"
#include "test.h"
#include "test_query_util.h"

TEST(ux_missing_log_directory_names_log_dir)
{
	char *dir = tq_tempdir();
	char missing[600];
	snprintf(missing, sizeof(missing), "%s/nothing-here", dir);
	struct {
		int (*fn)(int, char **);
		const char *argv[8];
	} cmds[] = {
	    {cmd_who, {"who", "-d", missing, NULL}},
	    {cmd_tree, {"tree", "-d", missing, "--pid", "1", NULL}},
	    {cmd_timeline, {"timeline", "-d", missing, NULL}},
	    {cmd_cat, {"cat", "-d", missing, NULL}},
	    {cmd_cat, {"cat", "-d", missing, "--format", "jsonl", NULL}},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *out, *err;
		CHECK_EQ_INT(tq_run(cmds[i].fn, cmds[i].argv, &out, &err), 1);
		if (!strstr(err, "nothing-here: No such file or directory") ||
		    !strstr(err, "--log-dir DIR"))
			TEST_FAIL_("%s: %s", cmds[i].argv[0], err);
		free(out);
		free(err);
	}
	tq_rmdir(dir);
}

TEST(ux_permission_error_says_root_or_group)
{
	/* root reads everything, so the message is checked on its own */
	char *dir = tq_tempdir();
	char buf[1024];
	CHECK_EQ_INT(chmod(dir, 0700), 0);
	log_open_error(buf, sizeof(buf), dir, true, EACCES);
	CHECK(strstr(buf, "cannot read log directory "));
	CHECK(strstr(buf, ": Permission denied: run as root (the recorder keeps its log readable "
			  "by root alone), or join a group"));
	/* a directory its group may read (an administrator's choice): that group */
	CHECK_EQ_INT(chmod(dir, 0750), 0);
	struct stat st;
	CHECK_EQ_INT(stat(dir, &st), 0);
	const struct group *g = getgrgid(st.st_gid);
	CHECK(g);
	char want[256];
	snprintf(want, sizeof(want),
		 "run as root, or as a member of the group %s, which may read it", g->gr_name);
	log_open_error(buf, sizeof(buf), dir, true, EPERM);
	if (!strstr(buf, want))
		TEST_FAIL_("%s", buf);
	/* a file of the log */
	char file[600];
	snprintf(file, sizeof(file), "%s/onmitsu.csv", dir);
	tq_write_str(dir, "onmitsu.csv", "");
	CHECK_EQ_INT(chmod(file, 0600), 0);
	log_open_error(buf, sizeof(buf), file, false, EACCES);
	CHECK(strstr(buf, "cannot read "));
	CHECK(!strstr(buf, "log directory"));
	CHECK(strstr(buf, "run as root ("));
	/* another error is said as it is */
	log_open_error(buf, sizeof(buf), dir, true, EIO);
	CHECK(strstr(buf, "Input/output error") && !strstr(buf, "root"));
	tq_rmdir(dir);
}

TEST(ux_record_log_dir_must_be_a_directory)
{
	char err[512];
	CHECK_EQ_INT(log_dir_option_check("-", err, sizeof(err)), -1);
	CHECK(strstr(err, "--log-dir \"-\": the log is a directory of segments, never standard "
			  "output"));
	CHECK(strstr(err, "onmitsu cat --follow"));
	CHECK_EQ_INT(log_dir_option_check("", err, sizeof(err)), -1);
	CHECK(strstr(err, "needs a directory"));
	/* an option taken as the value: `record --log-dir --format jsonl` */
	CHECK_EQ_INT(log_dir_option_check("--format", err, sizeof(err)), -1);
	CHECK(strstr(err, "looks like an option"));
	CHECK(strstr(err, "./--format"));
	CHECK_EQ_INT(log_dir_option_check("/var/log/onmitsu", err, sizeof(err)), 0);
	CHECK_EQ_INT(log_dir_option_check("./-odd", err, sizeof(err)), 0);
}

TEST(ux_correlate_help_names_every_option)
{
	char *out, *err;
	const char *argv[] = {"correlate", "--help", NULL};
	CHECK_EQ_INT(tq_run(cmd_correlate, argv, &out, &err), 0);
	/* the synopsis and the list both */
	const char *opts[] = {"--window S", "--unattributed", "--json", "--csv", "--log-dir DIR"};
	const char *blank = strstr(out, "\n\n");
	CHECK(blank);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const char *at = strstr(out, opts[i]);
		if (!at || at > blank)
			TEST_FAIL_("%s is not in the synopsis:\n%s", opts[i], out);
		if (!strstr(blank, opts[i]))
			TEST_FAIL_("%s is not in the list:\n%s", opts[i], out);
	}
	CHECK(strstr(out, "-h, --help"));
	free(out);
	free(err);
}
