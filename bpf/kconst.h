/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel's constants the programs use, in one place, each with where it
 * comes from in the kernel's source. vmlinux.h carries types and enums but
 * not #defines, so these are written out here. Included after vmlinux.h
 * (by onmitsu.bpf.h): a name that vmlinux.h also has as an enum member is
 * shadowed by the macro with the same value.
 *
 * Most are part of the user ABI and cannot change. The ones marked
 * "internal" are not; each says what to check when the kernel moves.
 */
#ifndef ONMITSU_KCONST_H
#define ONMITSU_KCONST_H

/* Address families: include/linux/socket.h */
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10

/* IP protocols: include/uapi/linux/in.h (ICMPV6: include/uapi/linux/in6.h) */
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ICMPV6 58

/* Ethernet protocol ids, as in skb->protocol (network order): include/uapi/linux/if_ether.h */
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/* iphdr.frag_off: the fragment offset bits (IP_OFFSET, include/net/ip.h) */
#define IP_OFFSET 0x1fff

/* Echo requests: ICMP_ECHO (include/uapi/linux/icmp.h), ICMPV6_ECHO_REQUEST
 * (include/uapi/linux/icmpv6.h) */
#define ICMP_ECHO 8
#define ICMPV6_ECHO_REQUEST 128

/* TCP states (sk_state): include/net/tcp_states.h */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7

/* sk_shutdown: both directions shut (SHUTDOWN_MASK, include/net/sock.h);
 * tcp_close() sets it before the socket goes to TCP_CLOSE */
#define SHUTDOWN_MASK 3

/* errno values: include/uapi/asm-generic/errno.h (x86 uses the generic ones) */
#define EBUSY 16
#define EEXIST 17
#define ECONNABORTED 103
#define ECONNRESET 104
#define EALREADY 114
#define EINPROGRESS 115
#define EINTR 4
/* the kernel's own, seen at a system call's exit before a restart
 * (include/linux/errno.h) */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

/* The largest errno a system call returns as -errno; a return value in
 * [-MAX_ERRNO, -1] is an error (IS_ERR_VALUE, include/linux/err.h), a larger
 * "negative" one is a valid address (mmap) */
#define MAX_ERRNO 4095

/* mmap/mprotect: include/uapi/asm-generic/mman-common.h (x86 uses these) */
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define MAP_ANONYMOUS 0x20

/* vm_area_struct.vm_flags: include/linux/mm.h (internal, stable since 2.6) */
#define VM_EXEC 0x4

/* ptrace requests: include/uapi/linux/ptrace.h, arch/x86/include/uapi/asm/ptrace-abi.h
 * (the same numbers for the i386 ABI) */
#define PTRACE_POKETEXT 4
#define PTRACE_POKEDATA 5
#define PTRACE_POKEUSR 6
#define PTRACE_SETREGS 13
#define PTRACE_SETFPREGS 15
#define PTRACE_SETFPXREGS 19 /* i386 only */
#define PTRACE_ATTACH 16
#define PTRACE_SETREGSET 0x4205
#define PTRACE_SEIZE 0x4206

/* open flags: include/uapi/asm-generic/fcntl.h */
#define O_ACCMODE 00000003
#define O_RDONLY 00000000

/* file.f_mode: opened for writing (include/linux/fs.h; internal, stable) */
#define FMODE_WRITE 0x2

/* open flags kept in file.f_flags: O_PATH (include/uapi/asm-generic/fcntl.h) */
#define O_PATH 010000000

/* File types in inode.i_mode: include/uapi/linux/stat.h */
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000

/* A device number's major in the kernel's encoding (dev_t: MINORBITS 20,
 * include/linux/kdev_t.h; internal, stable) and the terminals' majors
 * (include/uapi/linux/major.h): TTY_MAJOR (virtual consoles, ttyS),
 * TTYAUX_MAJOR (/dev/tty, /dev/console, /dev/ptmx), UNIX98_PTY_SLAVE_MAJOR
 * and the 7 after it (UNIX98_PTY_MAJOR_COUNT, the pseudo-terminals) */
#define KDEV_MINORBITS 20
#define TTY_MAJOR 4
#define TTYAUX_MAJOR 5
#define UNIX98_PTY_SLAVE_MAJOR 136
#define UNIX98_PTY_MAJOR_COUNT 8

/* /proc: include/uapi/linux/magic.h */
#define PROC_SUPER_MAGIC 0x9fa0

/* The auxiliary vector's entry for the interpreter's load address:
 * include/uapi/linux/auxvec.h */
#define AT_BASE 7

/* The in-memory filesystem behind memfd_create: include/uapi/linux/magic.h */
#define TMPFS_MAGIC 0x01021994

/* signal_struct.flags: the whole group is exiting (include/linux/sched/signal.h;
 * internal, unchanged since 2.6.x) */
#define SIGNAL_GROUP_EXIT 0x00000004

/*
 * System calls: numbers, argument registers and the 32-bit (compat) gate
 * differ by architecture. Only x86-64 with its i386 compat ABI is provided;
 * another architecture needs its table here (arch/<arch>/...) and the
 * register names in syscall.bpf.c, so the build stops rather than hook the
 * wrong system calls.
 */
#if defined(__TARGET_ARCH_x86)
/* thread_info.status: the task is in a 32-bit system call (TS_COMPAT,
 * arch/x86/include/asm/thread_info.h; internal) */
#define TS_COMPAT 0x0002
/* arch/x86/entry/syscalls/syscall_64.tbl */
#define NR_MMAP 9
#define NR_MPROTECT 10
#define NR_CONNECT 42
#define NR_ACCEPT 43
#define NR_ACCEPT4 288
#define NR_OPEN 2
#define NR_CREAT 85
#define NR_PTRACE 101
#define NR_OPENAT 257
#define NR_PROCESS_VM_WRITEV 311
#define NR_PKEY_MPROTECT 329
#define NR_OPENAT2 437
#define NR_RENAME 82
#define NR_LINK 86
#define NR_SYMLINK 88
#define NR_RENAMEAT 264
#define NR_LINKAT 265
#define NR_SYMLINKAT 266
#define NR_RENAMEAT2 316
/* arch/x86/entry/syscalls/syscall_32.tbl (i386 has no plain accept; calls
 * made through socketcall(2) are not decoded) */
#define NR32_MPROTECT 125
#define NR32_MMAP2 192
#define NR32_CONNECT 362
#define NR32_ACCEPT4 364
#define NR32_OPEN 5
#define NR32_CREAT 8
#define NR32_PTRACE 26
#define NR32_OPENAT 295
#define NR32_PROCESS_VM_WRITEV 348
#define NR32_PKEY_MPROTECT 380
#define NR32_OPENAT2 437
#define NR32_LINK 9
#define NR32_RENAME 38
#define NR32_SYMLINK 83
#define NR32_RENAMEAT 302
#define NR32_LINKAT 303
#define NR32_SYMLINKAT 304
#define NR32_RENAMEAT2 353
#define RENAME_EXCHANGE 2
#else
#error "system call numbers for x86-64 only: add this architecture's (kconst.h, syscall.bpf.c)"
#endif

#endif /* ONMITSU_KCONST_H */
