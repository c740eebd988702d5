/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Workload 1: a fork+exec storm. J worker processes each fork and exec PROG
 * (default /bin/true) and wait for it, until N execs have been made in all.
 * Prints one line "execs=N failed=F elapsed_ns=T" and, with -o FILE, the pid
 * of every child (one a line) so that the log can be checked for each one.
 * Bounded: N is capped and the whole run gives up after 120 s.
 *
 * usage: execstorm [-n N] [-j J] [-p PROG] [-o PIDFILE]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define MAX_EXECS 1000000
#define MAX_WORKERS 64

int main(int argc, char **argv)
{
	long n = 3000, workers = 2;
	const char *prog = "/bin/true", *pidfile = NULL;
	int c;
	while ((c = getopt(argc, argv, "n:j:p:o:")) != -1) {
		switch (c) {
		case 'n':
			n = parse_count("execstorm", optarg, 1, MAX_EXECS, "-n");
			break;
		case 'j':
			workers = parse_count("execstorm", optarg, 1, MAX_WORKERS, "-j");
			break;
		case 'p':
			prog = optarg;
			break;
		case 'o':
			pidfile = optarg;
			break;
		default:
			fprintf(stderr, "usage: execstorm [-n N] [-j J] [-p PROG] [-o PIDFILE]\n");
			return 2;
		}
	}
	/* shared with the workers: the child pids and a count of failures */
	size_t sz = sizeof(int) * (size_t)n + sizeof(long);
	int *pids = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pids == MAP_FAILED) {
		perror("execstorm: mmap");
		return 1;
	}
	long *failed = (long *)(pids + n);

	unsigned long long t0 = now_ns();
	for (long w = 0; w < workers; w++) {
		pid_t wp = fork();
		if (wp < 0) {
			perror("execstorm: fork");
			return 1;
		}
		if (wp > 0)
			continue;
		/* worker w makes execs w, w+J, w+2J, ... */
		for (long i = w; i < n; i += workers) {
			if (now_ns() - t0 > DEADLINE_NS)
				_exit(3);
			pid_t p = fork();
			if (p == 0) {
				execl(prog, prog, (char *)NULL);
				_exit(127);
			}
			if (p < 0) {
				__atomic_add_fetch(failed, 1, __ATOMIC_RELAXED);
				continue;
			}
			pids[i] = p;
			int st;
			if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				__atomic_add_fetch(failed, 1, __ATOMIC_RELAXED);
		}
		_exit(0);
	}
	int bad_workers = 0;
	for (long w = 0; w < workers; w++) {
		int st;
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad_workers++;
	}
	unsigned long long elapsed = now_ns() - t0;

	if (pidfile) {
		FILE *f = open_output("execstorm", pidfile);
		if (!f)
			return 1;
		for (long i = 0; i < n; i++)
			if (pids[i] > 0)
				fprintf(f, "%d\n", pids[i]);
		if (close_output("execstorm", pidfile, f) != 0)
			return 1;
	}
	printf("execs=%ld failed=%ld elapsed_ns=%llu\n", n, *failed, elapsed);
	return bad_workers || *failed ? 1 : 0;
}
