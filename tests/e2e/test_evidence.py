#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
End-to-end test of evidence preservation (issue 13): when a rule fires, the
recorder keeps what /proc shows of the process into LOG_DIR/evidence/ with a
manifest, and an EVIDENCE record names it (docs/FORMAT.md, docs/DESIGN.md).

- a payload run from a memfd that connects to a listener on the loopback and
  exits some 20 ms after its exec: its evidence is kept (from the snapshot
  taken at exec), the manifest verifies, and the executable kept is the one
  the EXEC's sha256 names;
- a program run from /tmp that connects: kept, its socket listed, its
  environment's secrets redacted (and nowhere in the evidence);
- an ordinary program from /usr/bin that connects: no evidence;
- a shell whose stdin and stdout are a TCP socket (a reverse shell: the EXEC's
  stdin=tcp): kept, its socket listed;
- the caps: a tiny --evidence-exe-max and --evidence-max make copies not kept,
  each with its reason in the record;
- tampering with a kept file, the shared copy of the executable or the
  manifest makes `onmitsu verify` fail (exit 1) naming it.

Traffic goes to the loopback only. Needs root; with CI=true a test that
cannot run is a failure. Ends with "N passed, N failed".
Usage: tests/e2e/test_evidence.py [NAME-SUBSTRING]
"""
import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BUILD, ONMITSU, check_eq  # noqa: E402
from test_hash import detail, read, records  # noqa: E402  (the log as test_hash reads it)

NETPROBE = os.path.join(BUILD, "e2e", "netprobe")
PYTHON = shutil.which("python3") or "/usr/bin/python3"
SECRET = "hunter2-evidence-secret"


class Listener:
    """A TCP listener on 127.0.0.1 that accepts and closes (bounded)."""

    def __init__(self):
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(64)
        self.s.settimeout(0.2)
        self.port = self.s.getsockname()[1]
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop:
            try:
                c, _ = self.s.accept()
                c.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.t.join(2)
        self.s.close()


def evidence_of(rows, pid):
    return [r for r in rows if r["event"] == "EVIDENCE" and r["pid"] == str(pid)]


def manifest(log_dir, rec):
    """{what: (name, size, sha)} and [(what, reason)] of the record's manifest."""
    text = read(os.path.join(log_dir, rec["path"], "MANIFEST")).decode()
    check_eq("manifest sha256", hashlib.sha256(text.encode()).hexdigest(), rec["sha256"])
    files, not_kept = {}, []
    for line in text.splitlines():
        w = line.split(" ")
        if w[0] == "file":
            files[w[4]] = (w[1], int(w[2]), w[3])
        elif w[0] == "not_kept":
            not_kept.append((w[1], w[2]))
    return files, not_kept


def kept_path(log_dir, rec, name):
    if name.startswith("files/"):
        return os.path.join(log_dir, "evidence", name)
    return os.path.join(log_dir, rec["path"], name)


def verify(log_dir):
    return subprocess.run([ONMITSU, "verify", "--log-dir", log_dir], capture_output=True,
                          text=True, timeout=120)


def run_memfd(port, linger_ms):
    """netprobe from a memfd: connect to port, keep the socket linger_ms, exit."""
    fd = os.memfd_create("payload", 0)
    os.write(fd, read(NETPROBE))
    try:
        p = subprocess.Popen(["/proc/self/fd/%d" % fd, "tcp-linger", "127.0.0.1", str(port),
                              str(linger_ms)], pass_fds=(fd,), stdout=subprocess.PIPE, text=True)
        out, _ = p.communicate(timeout=10)
    finally:
        os.close(fd)
    check_eq("payload connected (%r)" % out, "errno=0" in out, True)
    return p.pid


def wait_evidence(log_dir, rec_proc):
    """Stop the recorder (it writes the evidence of rules fired before STOP)."""
    time.sleep(0.5)
    rec_proc.stop(timeout=60)
    return records(log_dir)


def test_memfd_payload():
    """The hard case: a memfd payload that connects and is gone ~20 ms later."""
    d = tempfile.mkdtemp(prefix="onm-ev-")
    lis = Listener()
    try:
        rec = harness.Recorder(d)
        pids = [run_memfd(lis.port, 20) for _ in range(3)]
        rows = wait_evidence(d, rec)
        for pid in pids:
            execs = [r for r in rows if r["event"] == "EXEC" and r["pid"] == str(pid)]
            exits = [r for r in rows if r["event"] == "EXIT" and r["pid"] == str(pid)]
            check_eq("one EXEC of pid %d" % pid, len(execs), 1)
            check_eq("memfd flagged", detail(execs[0]).get("memfd"), "1")
            ev = evidence_of(rows, pid)
            check_eq("one EVIDENCE for the memfd payload %d" % pid, len(ev), 1)
            e = ev[0]
            det = detail(e)
            print("  memfd payload %d lived %s..%s; evidence %s source=%s not_kept=%s" %
                  (pid, execs[0]["time"][17:], exits[0]["time"][17:] if exits else "?",
                   e["result"], det.get("source"), det.get("not_kept", "")))
            check_eq("rule", det.get("rule"), "suspicious-exe-net")
            check_eq("guid", e["guid"], execs[0]["guid"])
            if e["result"] not in ("kept", "partial"):
                raise AssertionError("evidence not kept: %r" % e)
            files, _ = manifest(d, e)
            if "exe" not in files:
                raise AssertionError("the executable was not kept: %r" % e["detail"])
            name, size, sha = files["exe"]
            check_eq("kept exe = the EXEC's sha256", sha, execs[0]["sha256"])
            data = read(kept_path(d, e, name))
            check_eq("kept exe's content", hashlib.sha256(data).hexdigest(), sha)
            check_eq("kept exe is netprobe", data, read(NETPROBE))
            for what in ("maps", "status", "cmdline"):
                if what not in files:
                    raise AssertionError("%s not kept: %r" % (what, e["detail"]))
            cmd = read(kept_path(d, e, files["cmdline"][0]))
            check_eq("cmdline kept", cmd.split(b"\0")[1], b"tcp-linger")
        v = verify(d)
        check_eq("verify (%s)" % v.stdout, v.returncode, 0)
        if "evidence: 3 of 3" not in v.stdout:
            raise AssertionError("verify did not check the evidence: %s" % v.stdout)
    finally:
        lis.close()
        shutil.rmtree(d, ignore_errors=True)


def run_tmp_program(tmp, port, env):
    prog = os.path.join(tmp, "updater")
    shutil.copy(NETPROBE, prog)
    os.chmod(prog, 0o755)
    out = subprocess.run([prog, "tcp-linger", "127.0.0.1", str(port), "300"], env=env,
                         capture_output=True, text=True, timeout=10).stdout
    pid = int(out.split()[0].split("=")[1])
    sport = int(out.split()[2].split("=")[1])
    return pid, sport


@contextlib.contextmanager
def tmp_program_recorded(*record_args, env=None):
    """A recorder (with record_args) while a program copied to /tmp connects to a
    loopback listener; yields (log dir, records, pid, source port, listener port)."""
    d = tempfile.mkdtemp(prefix="onm-ev-")
    tmp = tempfile.mkdtemp(prefix="onm-ev-", dir="/tmp")
    lis = Listener()
    try:
        rec = harness.Recorder(d, *record_args)
        pid, sport = run_tmp_program(tmp, lis.port, env or {"PATH": "/usr/bin:/bin"})
        rows = wait_evidence(d, rec)
        yield d, rows, pid, sport, lis.port
    finally:
        lis.close()
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


def test_tmp_program_and_environ():
    """A program in /tmp that connects: kept live, its socket listed, secrets redacted."""
    env = {"PATH": "/usr/bin:/bin", "PLAIN_SETTING": "visible-value",
           "AWS_SECRET_ACCESS_KEY": SECRET, "GITHUB_TOKEN": SECRET + "-t",
           "DATABASE_URL": "postgres://app:%s@db.example/app" % SECRET, "DB_PWD": SECRET}
    with tmp_program_recorded(env=env) as (d, rows, pid, sport, port):
        ev = evidence_of(rows, pid)
        check_eq("one EVIDENCE for the /tmp program", len(ev), 1)
        e = ev[0]
        check_eq("kept (detail %r)" % e["detail"], e["result"], "kept")
        check_eq("path", e["path"], "evidence/" + e["guid"])
        det = detail(e)
        check_eq("redacted count", det.get("redacted"), "4")
        files, _ = manifest(d, e)
        for what in ("exe", "maps", "status", "cmdline", "environ", "fds", "cwd", "cgroup", "ns"):
            if what not in files:
                raise AssertionError("%s not kept: %r" % (what, e["detail"]))
        envs = read(kept_path(d, e, files["environ"][0])).split(b"\0")
        if b"PLAIN_SETTING=visible-value" not in envs:
            raise AssertionError("an ordinary variable was not kept: %r" % envs)
        for name in (b"AWS_SECRET_ACCESS_KEY", b"GITHUB_TOKEN", b"DATABASE_URL", b"DB_PWD"):
            if name + b"=<redacted>" not in envs:
                raise AssertionError("%s not redacted: %r" % (name, envs))
        for root, _, names in os.walk(os.path.join(d, "evidence")):
            for n in names:
                if SECRET.encode() in read(os.path.join(root, n)):
                    raise AssertionError("the secret is in %s" % os.path.join(root, n))
        fds = read(kept_path(d, e, files["fds"][0])).decode()
        # (the listener closes at once: ESTABLISHED or CLOSE_WAIT)
        want = "tcp 127.0.0.1:%d 127.0.0.1:%d " % (sport, port)
        if want not in fds:
            raise AssertionError("the connection is not listed (%s) in:\n%s" % (want, fds))
        check_eq("cwd", read(kept_path(d, e, files["cwd"][0])).decode().strip(), os.getcwd())
        v = verify(d)
        check_eq("verify (%s)" % v.stdout, v.returncode, 0)


def test_ordinary_program_no_evidence():
    """python3 from /usr/bin connecting is ordinary: nothing is kept."""
    d = tempfile.mkdtemp(prefix="onm-ev-")
    lis = Listener()
    try:
        rec = harness.Recorder(d)
        p = subprocess.run([PYTHON, "-c", "import os, socket; "
                            "socket.create_connection(('127.0.0.1', %d), 5).close(); "
                            "print(os.getpid())" % lis.port],
                           capture_output=True, text=True, timeout=20)
        pid = int(p.stdout.strip())
        rows = wait_evidence(d, rec)
        nets = [r for r in rows if r["event"] == "NET" and r["pid"] == str(pid)]
        check_eq("the connect is recorded", len(nets) >= 1, True)
        check_eq("no EVIDENCE for /usr/bin/python3", evidence_of(rows, pid), [])
        stop = detail([r for r in rows if r["event"] == "STOP"][0])
        check_eq("STOP evidence_kept", stop.get("evidence_kept"), "0")
        check_eq("no evidence directory made", sorted(os.listdir(os.path.join(d, "evidence"))),
                 ["files"])
    finally:
        lis.close()
        shutil.rmtree(d, ignore_errors=True)


def test_reverse_shell():
    """/bin/sh with a TCP socket as stdin and stdout (the revshell EXEC keys): kept."""
    d = tempfile.mkdtemp(prefix="onm-ev-")
    lis = Listener()
    try:
        rec = harness.Recorder(d)
        s = socket.create_connection(("127.0.0.1", lis.port), 5)
        p = subprocess.Popen(["/bin/sh", "-c", "sleep 0.3"], stdin=s.fileno(), stdout=s.fileno())
        p.wait(timeout=10)
        s.close()
        rows = wait_evidence(d, rec)
        execs = [r for r in rows if r["event"] == "EXEC" and r["pid"] == str(p.pid)]
        check_eq("the shell's EXEC says stdin=tcp (%r)" % [r["detail"] for r in execs],
                 detail(execs[0]).get("stdin"), "tcp")
        ev = evidence_of(rows, p.pid)
        check_eq("one EVIDENCE for the shell", len(ev), 1)
        e = ev[0]
        check_eq("rule", detail(e).get("rule"), "reverse-shell")
        check_eq("trigger", detail(e).get("trigger"), "exec")
        if e["result"] not in ("kept", "partial"):
            raise AssertionError("not kept: %r" % e)
        files, _ = manifest(d, e)
        check_eq("kept exe = the EXEC's sha256", files["exe"][2], execs[0]["sha256"])
        fds = read(kept_path(d, e, files["fds"][0])).decode()
        if "0 socket:[" not in fds or "tcp 127.0.0.1:" not in fds:
            raise AssertionError("stdin's socket is not listed:\n%s" % fds)
        v = verify(d)
        check_eq("verify (%s)" % v.stdout, v.returncode, 0)
    finally:
        lis.close()
        shutil.rmtree(d, ignore_errors=True)


def test_caps_say_why():
    """A tiny per-executable cap and total cap: copies not made, each with its reason."""
    with tmp_program_recorded("--evidence-exe-max", "1K", "--evidence-max", "8K") as (
            d, rows, pid, _, _):
        ev = evidence_of(rows, pid)
        check_eq("one EVIDENCE", len(ev), 1)
        e = ev[0]
        check_eq("partial (detail %r)" % e["detail"], e["result"], "partial")
        nk = detail(e).get("not_kept", "").split(",")
        if "exe:too_big" not in nk:
            raise AssertionError("exe:too_big not said: %r" % e["detail"])
        if not any(x.endswith(":cap") for x in nk):
            raise AssertionError("no copy refused by the total cap: %r" % e["detail"])
        files, not_kept = manifest(d, e)
        check_eq("exe not in the manifest", "exe" in files, False)
        if ("exe", "too_big") not in not_kept:
            raise AssertionError("the manifest does not say exe too_big: %r" % not_kept)
        total = sum(os.path.getsize(os.path.join(r, n))
                    for r, _, ns in os.walk(os.path.join(d, "evidence")) for n in ns)
        if total > 8192:
            raise AssertionError("evidence takes %d bytes, over the 8K cap" % total)
        v = verify(d)
        check_eq("verify (%s)" % v.stdout, v.returncode, 0)


def test_tamper_fails_verify():
    """A kept file, the shared executable copy or the manifest changed: verify fails."""
    with tmp_program_recorded() as (d, rows, pid, _, _):
        e = evidence_of(rows, pid)[0]
        files, _ = manifest(d, e)
        check_eq("intact first", verify(d).returncode, 0)
        for what in ("status", "exe", None):
            path = (kept_path(d, e, files[what][0]) if what
                    else os.path.join(d, e["path"], "MANIFEST"))
            orig = read(path)
            with open(path, "ab") as f:
                f.write(b"x")
            v = verify(d)
            with open(path, "wb") as f:
                f.write(orig)
            check_eq("verify after %s changed (%s)" % (what or "MANIFEST", v.stdout),
                     v.returncode, 1)
            if "evidence of seq" not in v.stdout:
                raise AssertionError("verify does not name the evidence: %s" % v.stdout)
        check_eq("intact again", verify(d).returncode, 0)
        os.unlink(kept_path(d, e, files["maps"][0]))
        v = verify(d)
        check_eq("verify with a kept file removed", v.returncode, 1)


TESTS = [
    ("memfd_payload", test_memfd_payload),
    ("tmp_program_and_environ", test_tmp_program_and_environ),
    ("ordinary_program_no_evidence", test_ordinary_program_no_evidence),
    ("reverse_shell", test_reverse_shell),
    ("caps_say_why", test_caps_say_why),
    ("tamper_fails_verify", test_tamper_fails_verify),
]


def main():
    rc = harness.needs_root("e2e-evidence", "the evidence tests")
    if rc is not None:
        return rc
    for path in (ONMITSU, NETPROBE):
        if not os.path.exists(path):
            print("FAIL e2e-evidence: %s is not built (make)" % path)
            print("0 passed, 1 failed")
            return 1
    if not hasattr(os, "memfd_create"):
        print("FAIL e2e-evidence: python's os.memfd_create is missing")
        print("0 passed, 1 failed")
        return 1
    want = sys.argv[1] if len(sys.argv) > 1 else ""
    results = [harness.run_test(name, fn) for name, fn in TESTS if want in name]
    return harness.report("e2e-evidence", results)


if __name__ == "__main__":
    sys.exit(main())
