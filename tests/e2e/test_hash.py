#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
End-to-end test of "what a process was" (issue 10): the SHA-256 of the file
the kernel ran (EXEC, EXISTING) and mapped (MODLOAD), and the cgroup and
container id of a process (EXEC, EXISTING; `who` and `tree` show them).

Each test writes the bytes it runs itself and computes their SHA-256 with
hashlib; the log must hold that hash, whatever happened to the file after the
exec: deleted at once, replaced under its name, overwritten where the kernel
lets it, or a memfd with no name at all. A storm of one binary must be hashed
once (STOP's hashes= against the identities the log shows). A process the test
puts in a cgroup named as Docker names its scopes must show that cgroup and
the container id.

Needs root. Outside CI a non-root run skips with a message; with CI=true a
test that cannot run is a failure. Ends with "N passed, N failed".
Usage: tests/e2e/test_hash.py [NAME-SUBSTRING]
"""
import csv
import ctypes.util
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import ONMITSU, Skip, check_eq, one, sh  # noqa: E402

SLEEP = shutil.which("sleep") or "/bin/sleep"
CID = "5ca1ab1e" * 8  # 64 hex digits: a Docker-style container id


def sha_of(data):
    return hashlib.sha256(data).hexdigest()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def records(log_dir):
    with open(os.path.join(log_dir, "onmitsu.csv"), newline="") as f:
        return list(csv.DictReader(f))


def detail(rec):
    return dict(kv.split("=", 1) for kv in rec["detail"].split() if "=" in kv)


def by_pid(rows, event, pid):
    return [r for r in rows if r["event"] == event and r["pid"] == str(pid)]


LIFE_S = "4"  # seconds a victim of the exec-then-change tests runs


def copy_exe(src, dst, extra=b""):
    data = read(src) + extra
    with open(dst, "wb") as f:
        f.write(data)
    os.chmod(dst, 0o755)
    return data


class Run:
    """A recorder on a temp log directory; rows after stop()."""

    def __init__(self, *args):
        self.tmp = tempfile.mkdtemp(prefix="onmitsu-hash-")
        self.log = os.path.join(self.tmp, "log")
        self.rec = harness.Recorder(self.log, *args)

    def stop(self):
        self.rec.stop()
        self.rows = records(self.log)
        return self.rows

    def stop_detail(self):
        return detail(one([r for r in self.rows if r["event"] == "STOP"], "STOP"))

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def exec_hash(rows, pid, what):
    rec = one(by_pid(rows, "EXEC", pid), "EXEC of the %s (pid %d)" % (what, pid))
    return rec["sha256"], rec


# ---------------------------------------------------------------- the tests

def test_deleted_right_after_exec():
    """A binary deleted right after exec still gets the hash of what ran."""
    run = Run()
    try:
        exe = os.path.join(run.tmp, "gone")
        data = copy_exe(SLEEP, exe, b"\0deleted-after-exec")
        # returns once the exec succeeded; it lives on for LIFE_S so that the
        # hasher finds it running (its exe then is what ran, whatever the
        # name does): one second was too short on a loaded machine, where the
        # hasher came as it exited and could only say hash_error=changed
        p = subprocess.Popen([exe, LIFE_S])
        os.unlink(exe)
        p.wait(timeout=10)
        rows = run.stop()
        sha, rec = exec_hash(rows, p.pid, "deleted binary")
        check_eq("sha256 of the deleted binary (detail %r)" % rec["detail"], sha, sha_of(data))
    finally:
        run.close()


def test_replaced_and_overwritten_after_exec():
    """Replaced under its name (rename over it) right after exec, and then
    written where it stands if the kernel lets a running binary be written:
    the hash is of the bytes that ran, never of the new ones."""
    run = Run()
    try:
        exe = os.path.join(run.tmp, "replaced")
        data = copy_exe(SLEEP, exe, b"\0original")
        p = subprocess.Popen([exe, LIFE_S])
        new = os.path.join(run.tmp, "new")
        copy_exe(SLEEP, new, b"\0replacement")
        os.rename(new, exe)
        exe2 = os.path.join(run.tmp, "inplace")
        data2 = copy_exe(SLEEP, exe2, b"\0before-write")
        q = subprocess.Popen([exe2, LIFE_S])
        overwritten = False
        try:
            with open(exe2, "r+b") as f:  # ETXTBSY where the kernel denies it
                f.seek(len(data2) - 6)
                f.write(b"AFTER!")
            overwritten = True
        except OSError as e:
            if e.errno != 26:  # ETXTBSY
                raise
        p.wait(timeout=10)
        q.wait(timeout=10)
        rows = run.stop()
        sha, rec = exec_hash(rows, p.pid, "replaced binary")
        check_eq("sha256 of the replaced binary (detail %r)" % rec["detail"], sha, sha_of(data))
        sha2, rec2 = exec_hash(rows, q.pid, "binary written in place")
        if overwritten:
            # the bytes that ran, or no hash with a reason: never the new bytes
            if sha2 != sha_of(data2) and not (sha2 == "" and "hash_error" in detail(rec2)):
                raise AssertionError("written in place: sha256 %r detail %r" %
                                     (sha2, rec2["detail"]))
        else:
            check_eq("sha256 of the binary the kernel kept from writes (detail %r)" %
                     rec2["detail"], sha2, sha_of(data2))
    finally:
        run.close()


def test_memfd_exec():
    """A memfd has no name to open again: the hash is still of what ran."""
    if not hasattr(os, "memfd_create"):
        raise harness.CannotRun("python's os.memfd_create")
    run = Run()
    try:
        data = read(SLEEP) + b"\0memfd"
        fd = os.memfd_create("hash-test", 0)
        os.write(fd, data)
        p = subprocess.Popen(["/proc/self/fd/%d" % fd, "1"], pass_fds=(fd,))
        os.close(fd)
        p.wait(timeout=10)
        rows = run.stop()
        sha, rec = exec_hash(rows, p.pid, "memfd")
        check_eq("memfd flagged", detail(rec).get("memfd"), "1")
        check_eq("sha256 of the memfd (detail %r)" % rec["detail"], sha, sha_of(data))
    finally:
        run.close()


def test_storm_hashed_once():
    """200 execs of one new binary: every EXEC has its hash, and the file was
    hashed once (STOP's hashes= is about the number of files the log shows
    hashed, so the storm's binary counts once)."""
    run = Run()
    n = 200
    try:
        exe = os.path.join(run.tmp, "storm")
        data = copy_exe(SLEEP, exe, b"\0storm")
        pids = []
        for _ in range(n // 4):
            batch = [subprocess.Popen([exe, "0.01"]) for _ in range(4)]
            for p in batch:
                p.wait(timeout=10)
                pids.append(p.pid)
        rows = run.stop()
        want = sha_of(data)
        for pid in pids:
            sha, rec = exec_hash(rows, pid, "storm binary")
            check_eq("sha256 in the storm (detail %r)" % rec["detail"], sha, want)
        st = run.stop_detail()
        hashed = int(st["hashes"])
        files = {(r["exe"] if r["event"] != "MODLOAD" else r["path"], r["sha256"])
                 for r in rows if r["sha256"]}
        # other processes on the machine make hashes too, a few of them a file
        # the log shows once (rewritten with the same bytes): a margin of 10,
        # where hashing each exec would be 199 more
        if hashed > len(files) + 10:
            raise AssertionError("hashes=%d but the log shows %d hashed files: the storm's "
                                 "binary was hashed more than once" % (hashed, len(files)))
        if int(st["hash_cache_hits"]) < n - 1:
            raise AssertionError("hash_cache_hits=%s for %d execs of one file" %
                                 (st["hash_cache_hits"], n))
    finally:
        run.close()


def test_modload_of_dlopen():
    """dlopen of a library the test wrote: its MODLOAD has the library's hash."""
    src = ctypes.util.find_library("z") or ctypes.util.find_library("m")
    if not src:
        raise harness.CannotRun("a shared library to copy (libz or libm)")
    path = None
    for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"):
        if os.path.exists(os.path.join(d, src)):
            path = os.path.join(d, src)
            break
    if not path:
        raise harness.CannotRun("the file of %s" % src)
    run = Run()
    try:
        lib = os.path.join(run.tmp, "libhashtest.so")
        data = read(path)
        with open(lib, "wb") as f:
            f.write(data)
        code = "import ctypes,sys; ctypes.CDLL(sys.argv[1])"
        p = subprocess.Popen([sys.executable, "-c", code, lib])
        check_eq("the dlopen helper's status", p.wait(timeout=20), 0)
        rows = run.stop()
        mods = [r for r in rows if r["event"] == "MODLOAD" and r["pid"] == str(p.pid)
                and r["path"] == lib]
        rec = one(mods, "MODLOAD of %s" % lib)
        check_eq("sha256 of the dlopen'd library (detail %r)" % rec["detail"], rec["sha256"],
                 sha_of(data))
        # the libraries it mapped from the system have hashes too
        ld = [r for r in rows if r["event"] == "MODLOAD" and r["pid"] == str(p.pid)
              and r["sha256"]]
        if len(ld) < 2:
            raise AssertionError("only %d MODLOAD of the helper have a hash" % len(ld))
    finally:
        run.close()


def test_existing_and_hash_max():
    """EXISTING has the hash of what the process runs (deleted before the
    recorder started); --hash-max below a file's size: no hash, too_big."""
    tmp = tempfile.mkdtemp(prefix="onmitsu-hash-")
    p = None
    try:
        exe = os.path.join(tmp, "older")
        data = copy_exe(SLEEP, exe, b"\0existing")
        p = subprocess.Popen([exe, "30"])
        os.unlink(exe)
        run = Run()
        try:
            small = os.path.join(run.tmp, "small")
            copy_exe(SLEEP, small, b"\0small")
            rows_first = run.stop()
            rec = one(by_pid(rows_first, "EXISTING", p.pid), "EXISTING of the older process")
            check_eq("sha256 in EXISTING (detail %r)" % rec["detail"], rec["sha256"],
                     sha_of(data))
            check_eq("EXISTING deleted=", detail(rec).get("deleted"), "1")
        finally:
            run.close()
        run = Run("--hash-max", "4096")
        try:
            q = subprocess.Popen([SLEEP, "0.1"])
            q.wait(timeout=10)
            rows = run.stop()
            sha, rec = exec_hash(rows, q.pid, "sleep")
            check_eq("sha256 over --hash-max", sha, "")
            check_eq("hash_error over --hash-max", detail(rec).get("hash_error"), "too_big")
            start = one([r for r in rows if r["event"] == "START"], "START")
            check_eq("START hash_max=", detail(start).get("hash_max"), "4096")
        finally:
            run.close()
        run = Run("--hash-max", "0")
        try:
            q = subprocess.Popen([SLEEP, "0.1"])
            q.wait(timeout=10)
            rows = run.stop()
            sha, rec = exec_hash(rows, q.pid, "sleep")
            check_eq("sha256 with hashing off", sha, "")
            check_eq("hash_error with hashing off", detail(rec).get("hash_error"), None)
        finally:
            run.close()
    finally:
        if p:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def cgroup2_root():
    with open("/proc/self/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) > 2 and parts[2] == "cgroup2":
                return parts[1]
    raise Skip("no cgroup v2 hierarchy is mounted")


def test_cgroup_and_container_id():
    """A process the test moves into docker-<id>.scope: its EXEC (and, for one
    started before the recorder, its EXISTING) shows the cgroup and the id;
    `who` and `tree` show them too."""
    root = cgroup2_root()
    name = "docker-%s.scope" % CID
    cg = os.path.join(root, "onmitsu-test-%d" % os.getpid())
    scope = os.path.join(cg, name)
    os.makedirs(scope)
    older = None
    run = None
    try:
        want = "/%s/%s" % (os.path.basename(cg), name)
        older = subprocess.Popen(["sh", "-c", "echo $$ > %s/cgroup.procs; exec %s 30" %
                                  (scope, SLEEP)])
        for _ in range(100):  # bounded: until the exec happened
            if os.readlink("/proc/%d/exe" % older.pid) != os.readlink("/proc/self/exe") and \
                    "sleep" in os.readlink("/proc/%d/exe" % older.pid):
                break
            time.sleep(0.02)
        run = Run()
        p = subprocess.Popen(["sh", "-c", "echo $$ > %s/cgroup.procs; exec %s 0.2" %
                              (scope, SLEEP)])
        check_eq("the helper's status", p.wait(timeout=10), 0)
        rows = run.stop()
        sleep = os.path.realpath(SLEEP)
        rec = one([r for r in by_pid(rows, "EXEC", p.pid) if r["exe"] == sleep],
                  "EXEC of sleep in the cgroup")
        check_eq("EXEC cgroup", rec["cgroup"], want)
        check_eq("EXEC container_id", rec["container_id"], CID)
        ex = one(by_pid(rows, "EXISTING", older.pid), "EXISTING in the cgroup")
        check_eq("EXISTING cgroup", ex["cgroup"], want)
        check_eq("EXISTING container_id", ex["container_id"], CID)
        # a process outside: the cgroup it is in, no container
        mine = [r for r in rows if r["event"] == "EXISTING" and r["pid"] == str(os.getpid())]
        if mine and mine[0]["container_id"]:
            raise AssertionError("this test's own process has a container id: %r" % mine[0])
        # who and tree show them
        out = sh(ONMITSU, "tree", "--log-dir", run.log, "--pid", str(p.pid), "--json").stdout
        if CID not in out or want not in out:
            raise AssertionError("tree --json lacks the cgroup or container: %s" % out[:800])
        out = sh(ONMITSU, "tree", "--log-dir", run.log, "--pid", str(p.pid)).stdout
        if CID[:12] not in out:
            raise AssertionError("tree lacks the container: %s" % out[:800])
    finally:
        if older:
            older.kill()
            older.wait()
        for d in (scope, cg):
            for _ in range(50):  # the killed processes leave the cgroup when reaped
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.02)
        if run:
            run.close()


TESTS = [
    ("deleted_right_after_exec", test_deleted_right_after_exec),
    ("replaced_and_overwritten_after_exec", test_replaced_and_overwritten_after_exec),
    ("memfd_exec", test_memfd_exec),
    ("storm_hashed_once", test_storm_hashed_once),
    ("modload_of_dlopen", test_modload_of_dlopen),
    ("existing_and_hash_max", test_existing_and_hash_max),
    ("cgroup_and_container_id", test_cgroup_and_container_id),
]


def main():
    rc = harness.needs_root("e2e-hash", "the hashing tests")
    if rc is not None:
        return rc
    if not os.path.exists(ONMITSU):
        print("FAIL e2e-hash: %s is not built (make)" % ONMITSU)
        print("0 passed, 1 failed")
        return 1
    want = sys.argv[1] if len(sys.argv) > 1 else ""
    results = [harness.run_test(name, fn) for name, fn in TESTS if want in name]
    return harness.report("e2e-hash", results)


if __name__ == "__main__":
    sys.exit(main())
