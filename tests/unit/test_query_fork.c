/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Since 0.3 a FORK record leaves exe and cmdline out: the child runs its
 * parent's image until it execs, and the parent's EXEC or EXISTING names it.
 * The process history joins it, so every command still names the image of a
 * process that forked and did not exec (tests/data/query/forked: nginx
 * forks a worker, the worker forks again, nginx then execs a new image, the
 * worker later execs curl).
 */
#include <stdlib.h>
#include <string.h>

#include "log/csv.h"
#include "query/commands.h"
#include "query/history.h"
#include "test.h"
#include "test_query_util.h"

/* the fixture's guids: 6f1cPPPP-...-00000000PPPP, PPPP the pid in hex */
#define G500 "6f1c01f4-0000-4000-8000-0000000001f4"
#define G501 "6f1c01f5-0000-4000-8000-0000000001f5"
#define G502 "6f1c01f6-0000-4000-8000-0000000001f6"

static uint64_t at(const char *s)
{
	uint64_t t = 0;
	csv_parse_time(s, &t);
	return t;
}

static const char *image_at(const struct history *h, const char *guid, const char *when,
			    const char **cmdline)
{
	int32_t p = history_find_guid(h, guid);
	const struct proc_image *im =
	    p == PROC_NONE ? NULL : history_image_at(h, p, when ? at(when) : UINT64_MAX);
	if (cmdline)
		*cmdline = im ? history_str(h, im->cmdline) : "(none)";
	return im ? history_str(h, im->exe) : "(none)";
}

TEST(query_fork_without_exe_runs_the_parents_image)
{
	struct history h;
	history_init(&h);
	CHECK_EQ_INT(history_load(&h, tq_fixture("forked"), 0, NULL, NULL), 0);
	const char *cmd;
	/* the worker, from its fork on: nginx's image then */
	CHECK_EQ_STR(image_at(&h, G501, "2026-11-25T19:00:02.000000Z", &cmd), "/usr/sbin/nginx");
	CHECK_EQ_STR(cmd, "nginx -g \"daemon off;\"");
	/* nginx exec'd a new image after the fork: the worker keeps the old one */
	CHECK_EQ_STR(image_at(&h, G501, "2026-11-25T19:00:05.000000Z", NULL), "/usr/sbin/nginx");
	CHECK_EQ_STR(image_at(&h, G500, "2026-11-25T19:00:05.000000Z", NULL),
		     "/usr/sbin/nginx-upgraded");
	/* until it execs itself */
	CHECK_EQ_STR(image_at(&h, G501, NULL, NULL), "/usr/bin/curl");
	/* a fork of the fork: the image its parent inherited */
	CHECK_EQ_STR(image_at(&h, G502, NULL, NULL), "/usr/sbin/nginx");
	/* nginx itself before its own exec: systemd's, inherited at its fork */
	CHECK_EQ_STR(image_at(&h, G500, "2026-11-25T19:00:01.000000Z", NULL),
		     "/usr/lib/systemd/systemd");
	history_free(&h);
}

TEST(query_fork_without_exe_commands_name_the_image)
{
	char *out, *err;
	const char *who[] = {"who",    "-d", tq_fixture("forked"), "--dst", "203.0.113.81",
			     "--json", NULL};
	CHECK_EQ_INT(tq_run(cmd_who, who, &out, &err), 0);
	if (!strstr(out, "\"pid\":502,") || !strstr(out, "\"exe\":\"/usr/sbin/nginx\""))
		TEST_FAIL_("who: %s", out);
	free(out);
	free(err);
	const char *who_later[] = {"who", "-d", tq_fixture("forked"), "--dst", "203.0.113.82:8082",
				   NULL};
	CHECK_EQ_INT(tq_run(cmd_who, who_later, &out, &err), 0);
	if (!strstr(out, "501  /usr/sbin/nginx\n") || strstr(out, "nginx-upgraded"))
		TEST_FAIL_("who: %s", out);
	free(out);
	free(err);
	const char *tree[] = {"tree", "-d", tq_fixture("forked"), "--pid", "502", NULL};
	CHECK_EQ_INT(tq_run(cmd_tree, tree, &out, &err), 0);
	if (!strstr(out, "502 /usr/sbin/nginx"))
		TEST_FAIL_("tree: %s", out);
	free(out);
	free(err);
	const char *tl[] = {"timeline", "-d", tq_fixture("forked"), "--pid", "502", NULL};
	CHECK_EQ_INT(tq_run(cmd_timeline, tl, &out, &err), 0);
	if (!strstr(out, "FORK          502  /usr/sbin/nginx") ||
	    !strstr(out, "NET           502  /usr/sbin/nginx  tcp") ||
	    !strstr(out, "EXIT          502  /usr/sbin/nginx  exit:0"))
		TEST_FAIL_("timeline: %s", out);
	free(out);
	free(err);
}
