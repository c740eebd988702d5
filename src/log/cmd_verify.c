/* SPDX-License-Identifier: BSD-2-Clause */
/* onmitsu verify (log/verify.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/commands.h"
#include "log/seal.h"
#include "log/verify.h"

#define DEFAULT_VERIFY_DIR "/var/log/onmitsu"

static void verify_usage(FILE *out)
{
	fprintf(out,
		"usage: onmitsu verify [--log-dir DIR] [--key FILE] [--seal-key FILE]\n"
		"                      [--min-epoch N]\n"
		"\n"
		"Check that the log was not altered: the hash chain over every record of\n"
		"every segment (plain or compressed), seq continuity, segment order, and\n"
		"with --key the forward-secure seals. Names the first bad block of records\n"
		"(at most 256, between two chain values: segment, lines and seqs) or record,\n"
		"and what is wrong: edited, missing, inserted, reordered,\n"
		"truncated, unsealed tail, a file in the log directory that is not part of\n"
		"the log. Reports gaps (time when nothing was recorded).\n"
		"\n"
		"  -d, --log-dir DIR   the log directory (default " DEFAULT_VERIFY_DIR ")\n"
		"  -k, --key FILE      a file holding the verification key that\n"
		"                      `onmitsu keygen` printed (onmitsu-verify-v1:...);\n"
		"                      keep it off the host\n"
		"  -s, --seal-key FILE the host's sealing key (" SEAL_DEFAULT_KEY_FILE "): its\n"
		"                      epoch must follow the log's last seal, or the log\n"
		"                      was cut back (a later run removed)\n"
		"  -e, --min-epoch N   a seal of epoch N was seen off the host (the syslog\n"
		"                      stream carries every SEAL): the log must reach it\n"
		"  -h, --help          this help\n"
		"\n"
		"Exit status: 0 intact, 1 not intact or unreadable, 2 usage.\n");
}

static int parse_epoch(const char *s, uint64_t *v)
{
	char *e;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long x = strtoull(s, &e, 10);
	if (errno || *e)
		return -1;
	*v = x;
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"log-dir", required_argument, NULL, 'd'},	{"key", required_argument, NULL, 'k'},
	    {"seal-key", required_argument, NULL, 's'}, {"min-epoch", required_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},		{NULL, 0, NULL, 0},
	};
	const char *dir = DEFAULT_VERIFY_DIR, *key_file = NULL, *seal_key_file = NULL;
	struct verify_opts vo = {0};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:k:s:e:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'k':
			key_file = optarg;
			break;
		case 's':
			seal_key_file = optarg;
			break;
		case 'e':
			if (parse_epoch(optarg, &vo.min_epoch) != 0) {
				fprintf(stderr,
					"onmitsu verify: bad --min-epoch \"%s\": want the epoch= "
					"number of the last SEAL seen off the host (0 or more)\n",
					optarg);
				return 2;
			}
			vo.have_min_epoch = true;
			break;
		case 'h':
			verify_usage(stdout);
			return 0;
		default:
			verify_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "onmitsu verify: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	uint8_t key0[SEAL_KEY_LEN];
	if (key_file) {
		FILE *f = fopen(key_file, "re");
		if (!f) {
			fprintf(stderr, "onmitsu verify: cannot read the key file %s: %s\n",
				key_file, strerror(errno));
			return 1;
		}
		char text[4096];
		size_t n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		int bad = seal_verify_key_parse(text, key0);
		explicit_bzero(text, sizeof(text));
		if (bad) {
			fprintf(stderr,
				"onmitsu verify: %s holds no verification key (want the line "
				"\"" SEAL_VERIFY_PREFIX "<64 hex digits>\" that `onmitsu keygen` "
				"printed)\n",
				key_file);
			return 2;
		}
		vo.key0 = key0;
	}
	if (seal_key_file) {
		/* before the log is read: a recorder at work may seal meanwhile,
		 * which the rule allows for, never the other way round */
		struct seal_key k;
		char err[512];
		if (seal_key_load(seal_key_file, &k, err, sizeof(err)) != 0) {
			fprintf(stderr,
				"onmitsu verify: %s (--seal-key wants the recorder's sealing key, "
				"not the verification key)\n",
				err);
			explicit_bzero(key0, sizeof(key0));
			return 1;
		}
		vo.have_key_epoch = true;
		vo.key_epoch = k.epoch;
		seal_key_wipe(&k);
	}
	struct verify_result res;
	int rc = log_verify_opts(dir, &vo, stdout, &res);
	explicit_bzero(key0, sizeof(key0));
	return rc == 0 ? 0 : 1;
}
