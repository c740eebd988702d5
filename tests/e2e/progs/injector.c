/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small program for the end-to-end tests of INJECT (tests/e2e/test_inject.py):
 * one process acting through another in a way the test knows. Each mode
 * prints one line "key=value ..." with what the recorder must have seen.
 *   victim HOST PORT            print "pid=P addr=A addr32=L" (L: a page below
 *                               4 GiB), wait for a line on stdin,
 *                               then connect to HOST:PORT, print "connected=0|errno"
 *   ptrace PID ADDR N           PTRACE_ATTACH PID, N x (PEEKTEXT + POKETEXT the
 *                               same word back) at ADDR, GETREGS + SETREGS,
 *                               detach
 *   ptrace-int80 PID ADDR32     the same attach + one POKEDATA through the i386
 *                               system call gate (int $0x80) at ADDR32
 *   procmem PID ADDR            as gdb writes: open /proc/PID/mem O_RDWR,
 *                               pread then pwrite a word at ADDR
 *   procmem-rel PID ADDR        the same through openat(dirfd of /proc/PID, "mem")
 *   vmwrite HOST PORT           fork a child (a victim), process_vm_writev into
 *                               it, then let it connect to HOST:PORT
 *   dup-preload LIB HOST PORT   exec a victim with LD_PRELOAD twice in its
 *                               environment, LIB the second (the one used)
 *   jit N HOST PORT             N x (mmap RW anonymous, write a `ret`, mprotect
 *                               RX, call it), then connect to HOST:PORT
 * Bounded: every wait has a timeout of a few seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sockaddr.h"

/* what the injectors write into: a word the victim never reads */
static volatile uint64_t target_word = 0x1122334455667788ull;

static int tcp_connect(const char *host, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, host, port);
	int fd = socket(family_of(host), SOCK_STREAM, 0);
	int err = connect(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : errno;
	close(fd);
	return err;
}

/* wait (bounded) for a line on fd */
static int wait_line(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	char c;
	while (read(fd, &c, 1) == 1 && c != '\n')
		;
	return 0;
}

#define LOW_PAGE 0x20000000ul /* a page a 32-bit ptrace can name */

static int victim(const char *host, int port, int in_fd)
{
	void *low = mmap((void *)LOW_PAGE, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	printf("pid=%d addr=%p addr32=%p\n", getpid(), (void *)&target_word,
	       low == MAP_FAILED ? NULL : low);
	fflush(stdout);
	if (wait_line(in_fd, 20000) != 0) {
		fprintf(stderr, "victim: no go within 20 s\n");
		return 1;
	}
	printf("connected=%d word=%#llx\n", tcp_connect(host, port),
	       (unsigned long long)target_word);
	fflush(stdout);
	return 0;
}

static int attach(pid_t pid)
{
	if (ptrace(PTRACE_ATTACH, pid, 0, 0) != 0) {
		perror("PTRACE_ATTACH");
		return -1;
	}
	int st;
	if (waitpid(pid, &st, __WALL) != pid || !WIFSTOPPED(st)) {
		fprintf(stderr, "the tracee did not stop\n");
		return -1;
	}
	return 0;
}

static int do_ptrace(pid_t pid, uintptr_t addr, long n)
{
	if (attach(pid) != 0)
		return 1;
	long pokes = 0;
	for (long i = 0; i < n; i++) {
		errno = 0;
		long w = ptrace(PTRACE_PEEKTEXT, pid, (void *)addr, 0);
		if (errno != 0) {
			perror("PTRACE_PEEKTEXT");
			return 1;
		}
		if (ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)w) != 0) {
			perror("PTRACE_POKETEXT");
			return 1;
		}
		pokes++;
	}
	struct user_regs_struct regs;
	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0 ||
	    ptrace(PTRACE_SETREGS, pid, 0, &regs) != 0) {
		perror("PTRACE_SETREGS");
		return 1;
	}
	ptrace(PTRACE_DETACH, pid, 0, 0);
	printf("pid=%d pokes=%ld setregs=1\n", getpid(), pokes);
	return 0;
}

/* ptrace(POKEDATA) through the i386 gate; the address must fit 32 bits, so
 * the word written is at a low address mapped in the tracee for it */
static int do_ptrace_int80(pid_t pid, uintptr_t addr)
{
	if (attach(pid) != 0)
		return 1;
	errno = 0;
	long w = ptrace(PTRACE_PEEKDATA, pid, (void *)addr, 0);
	if (errno != 0) {
		perror("PTRACE_PEEKDATA");
		return 1;
	}
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(26), "b"(PTRACE_POKEDATA), "c"(pid), "d"((uint32_t)addr),
			   "S"((uint32_t)w)
			 : "memory", "r8", "r9", "r10", "r11");
	ptrace(PTRACE_DETACH, pid, 0, 0);
	printf("pid=%d ret=%ld\n", getpid(), ret);
	return ret == 0 ? 0 : 1;
}

static int do_procmem(pid_t pid, uintptr_t addr, int relative)
{
	char path[64];
	int fd;
	if (relative) {
		snprintf(path, sizeof(path), "/proc/%d", pid);
		int dir = open(path, O_RDONLY | O_DIRECTORY);
		fd = dir < 0 ? -1 : openat(dir, "mem", O_RDWR);
		if (dir >= 0)
			close(dir);
	} else {
		snprintf(path, sizeof(path), "/proc/%d/mem", pid);
		fd = open(path, O_RDWR);
	}
	if (fd < 0) {
		perror("open mem");
		return 1;
	}
	uint64_t w;
	if (pread(fd, &w, sizeof(w), (off_t)addr) != sizeof(w) ||
	    pwrite(fd, &w, sizeof(w), (off_t)addr) != sizeof(w)) {
		perror("mem read/write");
		return 1;
	}
	close(fd);
	printf("pid=%d wrote=8\n", getpid());
	return 0;
}

static int do_vmwrite(const char *host, int port)
{
	int go[2];
	if (pipe(go) != 0)
		return 1;
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		close(go[1]);
		_exit(victim(host, port, go[0]));
	}
	close(go[0]);
	uint64_t w = 0x494e4a4543544544ull; /* "DETCEJNI" */
	struct iovec local = {.iov_base = &w, .iov_len = sizeof(w)};
	struct iovec remote = {.iov_base = (void *)&target_word, .iov_len = sizeof(w)};
	ssize_t n = process_vm_writev(child, &local, 1, &remote, 1, 0);
	printf("pid=%d child=%d written=%zd\n", getpid(), child, n);
	fflush(stdout);
	if (write(go[1], "go\n", 3) != 3)
		return 1;
	int st;
	waitpid(child, &st, 0);
	return n == sizeof(w) && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

static int do_jit(long n, const char *host, int port)
{
	for (long i = 0; i < n; i++) {
		unsigned char *p =
		    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 1;
		p[0] = 0xc3; /* ret */
		if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0)
			return 1;
		((void (*)(void))p)();
		munmap(p, 4096);
	}
	printf("pid=%d jits=%ld connected=%d\n", getpid(), n, tcp_connect(host, port));
	return 0;
}

int main(int argc, char **argv)
{
	alarm(30); /* never outlive a test */
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "victim") && argc == 4)
		return victim(argv[2], atoi(argv[3]), 0);
	if (!strcmp(mode, "ptrace") && argc == 5)
		return do_ptrace(atoi(argv[2]), strtoull(argv[3], NULL, 0), atol(argv[4]));
	if (!strcmp(mode, "ptrace-int80") && argc == 4)
		return do_ptrace_int80(atoi(argv[2]), strtoull(argv[3], NULL, 0));
	if (!strcmp(mode, "procmem") && argc == 4)
		return do_procmem(atoi(argv[2]), strtoull(argv[3], NULL, 0), 0);
	if (!strcmp(mode, "procmem-rel") && argc == 4)
		return do_procmem(atoi(argv[2]), strtoull(argv[3], NULL, 0), 1);
	if (!strcmp(mode, "vmwrite") && argc == 4)
		return do_vmwrite(argv[2], atoi(argv[3]));
	if (!strcmp(mode, "dup-preload") && argc == 5) {
		/* a victim whose environment names LD_PRELOAD twice: the loader
		 * takes the last */
		char first[] = "LD_PRELOAD=/nonexistent/first.so";
		char last[4200];
		snprintf(last, sizeof(last), "LD_PRELOAD=%s", argv[2]);
		char *envp[] = {first, last, NULL};
		char *args[] = {"injector", "victim", argv[3], argv[4], NULL};
		execve("/proc/self/exe", args, envp);
		perror("execve");
		return 1;
	}
	if (!strcmp(mode, "jit") && argc == 5)
		return do_jit(atol(argv[2]), argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: injector victim HOST PORT | ptrace PID ADDR N | "
			"ptrace-int80 PID ADDR | procmem PID ADDR | procmem-rel PID ADDR | "
			"vmwrite HOST PORT | dup-preload LIB HOST PORT | jit N HOST PORT\n");
	return 2;
}
