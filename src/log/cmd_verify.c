/* SPDX-License-Identifier: BSD-2-Clause */
/* onmitsu verify (log/verify.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log/commands.h"
#include "log/seal.h"
#include "log/verify.h"

#define DEFAULT_VERIFY_DIR "/var/log/onmitsu"

static void verify_usage(FILE *out)
{
	fprintf(out, "usage: onmitsu verify [--log-dir DIR] [--key FILE]\n"
		     "\n"
		     "Check that the log was not altered: the hash chain over every record of\n"
		     "every segment (plain or compressed), seq continuity, segment order, and\n"
		     "with --key the forward-secure seals. Names the first bad record (segment\n"
		     "and line) and what is wrong: edited, missing, inserted, reordered,\n"
		     "truncated, unsealed tail. Reports gaps (time when nothing was recorded).\n"
		     "\n"
		     "  -d, --log-dir DIR  the log directory (default " DEFAULT_VERIFY_DIR ")\n"
		     "  -k, --key FILE     a file holding the verification key that\n"
		     "                     `onmitsu keygen` printed (onmitsu-verify-v1:...)\n"
		     "  -h, --help         this help\n"
		     "\n"
		     "Exit status: 0 intact, 1 not intact or unreadable, 2 usage.\n");
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"log-dir", required_argument, NULL, 'd'},
	    {"key", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = DEFAULT_VERIFY_DIR, *key_file = NULL;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:k:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'k':
			key_file = optarg;
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
	}
	struct verify_result res;
	int rc = log_verify(dir, key_file ? key0 : NULL, stdout, &res);
	explicit_bzero(key0, sizeof(key0));
	return rc == 0 ? 0 : 1;
}
