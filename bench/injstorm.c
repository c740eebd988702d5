/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Workload 12: the system calls INJECT watches, in a storm. A child that
 * waits; the parent PTRACE_ATTACHes it, makes N PTRACE_POKETEXT (each after
 * a PEEKTEXT, writing the word back), detaches, makes N process_vm_writev
 * into it, then N times makes a page writable, writes it and makes it
 * executable (a JIT's W^X toggle), and opens /dev/null N times for writing
 * and N times for reading (the open path INJECT looks at for /proc/PID/mem
 * and /etc/ld.so.preload). Prints "pokes=N writes=N mprotects=N opens=N
 * elapsed_ns=T pid=P child=C". Bounded: N is capped, the child is killed at
 * the end, everything gives up after 120 s.
 *
 * usage: injstorm [-n N]
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define MAX_N 10000000

static volatile uint64_t word = 42;

int main(int argc, char **argv)
{
	long n = 10000;
	int c;
	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c == 'n')
			n = parse_count("injstorm", optarg, 1, MAX_N, "-n");
		else {
			fprintf(stderr, "usage: injstorm [-n N]\n");
			return 2;
		}
	}
	pid_t child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		alarm(130);
		for (;;)
			pause();
	}
	int rc = 1;
	unsigned long long t0 = now_ns();
	if (ptrace(PTRACE_ATTACH, child, 0, 0) != 0) {
		perror("injstorm: PTRACE_ATTACH");
		goto out;
	}
	int st;
	if (waitpid(child, &st, 0) != child) {
		perror("injstorm: waitpid");
		goto out;
	}
	long pokes = 0;
	for (; pokes < n && now_ns() - t0 < DEADLINE_NS; pokes++) {
		long w = ptrace(PTRACE_PEEKTEXT, child, (void *)&word, 0);
		if (ptrace(PTRACE_POKETEXT, child, (void *)&word, (void *)w) != 0) {
			perror("injstorm: PTRACE_POKETEXT");
			goto out;
		}
	}
	ptrace(PTRACE_DETACH, child, 0, 0);
	long writes = 0;
	uint64_t v = 42;
	struct iovec local = {.iov_base = &v, .iov_len = sizeof(v)};
	struct iovec remote = {.iov_base = (void *)&word, .iov_len = sizeof(v)};
	for (; writes < n && now_ns() - t0 < DEADLINE_NS; writes++)
		if (process_vm_writev(child, &local, 1, &remote, 1, 0) != sizeof(v)) {
			perror("injstorm: process_vm_writev");
			goto out;
		}
	unsigned char *p =
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		goto out;
	long mprotects = 0;
	for (; mprotects < n && now_ns() - t0 < DEADLINE_NS; mprotects++) {
		if (mprotect(p, 4096, PROT_READ | PROT_WRITE) != 0)
			goto out;
		p[0] = 0xc3; /* ret */
		if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0)
			goto out;
	}
	long opens = 0;
	for (; opens < n && now_ns() - t0 < DEADLINE_NS; opens++) {
		int w = open("/dev/null", O_WRONLY), r = open("/dev/null", O_RDONLY);
		if (w < 0 || r < 0)
			goto out;
		close(w);
		close(r);
	}
	printf("pokes=%ld writes=%ld mprotects=%ld opens=%ld elapsed_ns=%llu pid=%d child=%d\n",
	       pokes, writes, mprotects, opens, now_ns() - t0, getpid(), child);
	rc = pokes == n && writes == n && mprotects == n && opens == n ? 0 : 1;
out:
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return rc;
}
