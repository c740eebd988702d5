/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * onmitsu keygen: write the epoch-0 sealing key for `record` and print the
 * verification key, which the user keeps off the host (as journald's
 * --setup-keys does). Whoever later takes the host finds only the current,
 * evolved key, which cannot forge the seals of earlier epochs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/commands.h"
#include "log/seal.h"
#include "util/safefile.h"

static void keygen_usage(FILE *out)
{
	fprintf(out, "usage: onmitsu keygen [--key FILE] [--force]\n"
		     "\n"
		     "Make a sealing key for `onmitsu record` and print its verification key.\n"
		     "Keep the printed line OFF this host (paper, a password manager, another\n"
		     "machine): `onmitsu verify --key FILE` needs it to check the seals. The\n"
		     "sealing key on the host changes at every seal and cannot forge old ones.\n"
		     "\n"
		     "  -k, --key FILE   where record reads the sealing key (default\n"
		     "                   " SEAL_DEFAULT_KEY_FILE "); mode 0600\n"
		     "  -f, --force      replace an existing key (seals made with it can then\n"
		     "                   only be checked with its old verification key)\n"
		     "  -h, --help       this help\n"
		     "\n"
		     "Exit status: 0 ok, 1 failure, 2 usage.\n");
}

int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = SEAL_DEFAULT_KEY_FILE;
	int force = 0, ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "k:fh", opts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			if (!*optarg) {
				fprintf(stderr,
					"onmitsu keygen: --key needs a file name, not \"\"\n");
				return 2;
			}
			path = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			keygen_usage(stdout);
			return 0;
		default:
			keygen_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "onmitsu keygen: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	/* its directory and any missing parents (the key's own 0700), each
	 * made under one already checked, never through another user's link */
	char dir[4096], err[1024];
	const char *base;
	if (split_path(path, dir, sizeof(dir), &base) != 0) {
		fprintf(stderr, "onmitsu keygen: --key %s is not a file name\n", path);
		return 2;
	}
	int dfd = open_dir_nofollow(dir, SF_DIR_CREATE, 0700, NULL, NULL, err, sizeof(err));
	if (dfd < 0) {
		fprintf(stderr, "onmitsu keygen: %s\n", err);
		return 1;
	}
	struct stat st;
	bool exists = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	close(dfd);
	if (!force && exists) {
		fprintf(stderr,
			"onmitsu keygen: %s already exists; use --force to replace it (its seals "
			"then need the old verification key)\n",
			path);
		return 1;
	}
	struct seal_key k;
	if (seal_key_generate(&k) != 0) {
		fprintf(stderr, "onmitsu keygen: no random bytes from getrandom: %s\n",
			strerror(errno));
		return 1;
	}
	mode_t old = umask(077);
	int rc = seal_key_store(path, &k, err, sizeof(err));
	umask(old);
	if (rc != 0) {
		fprintf(stderr, "onmitsu keygen: cannot write %s: %s\n", path, err);
		seal_key_wipe(&k);
		return 1;
	}
	char vk[128];
	seal_verify_key_format(k.key, vk, sizeof(vk));
	seal_key_wipe(&k);
	printf("%s\n", vk);
	fflush(stdout);
	fprintf(stderr,
		"onmitsu keygen: sealing key written to %s.\n"
		"The line above is the verification key: store it off this host, e.g. in a\n"
		"file for `onmitsu verify --key FILE`. It is not kept anywhere here.\n",
		path);
	explicit_bzero(vk, sizeof(vk));
	return 0;
}
