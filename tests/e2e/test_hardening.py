#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
End-to-end tests of what the recorder and keygen, running as root, refuse
(issue 8): an unprivileged user made here is given write access to a log or
key directory the way an admin might (a root-owned directory open to all, or
one the user owns) and plants links, FIFOs and files there. Each attack must
fail: `onmitsu record` / `keygen` exit 1 with a message naming the file, and
no file outside the log directory changes (content, owner, mode and file
flags compared before and after).

Needs root. Outside CI a non-root run skips with a message; with CI=true a
test that cannot run is a failure. Ends with "N passed, N failed".
Usage: tests/e2e/test_hardening.py [NAME-SUBSTRING]
"""
import fcntl
import grp
import hashlib
import os
import pwd
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

ONMITSU = harness.ONMITSU
check_eq = harness.check_eq
FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_APPEND_FL = 0x80086601, 0x40086602, 0x20
SEGMENT_NAME = "onmitsu-20261125T191317.123456Z-000000000000.csv"


# ---------------------------------------------------------------- the attacker

class Attacker:
    """A throwaway system user (removed at the end), or nobody if useradd fails."""

    def __init__(self):
        self.name = "onm-attacker-%d" % os.getpid()
        self.made = False
        p = subprocess.run(["useradd", "--system", "--no-create-home", "--user-group",
                            "--shell", "/usr/sbin/nologin", self.name],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
        if p.returncode == 0:
            self.made = True
            pw = pwd.getpwnam(self.name)
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
        else:
            self.name = "nobody"
            self.uid = pwd.getpwnam("nobody").pw_uid
            self.gid = grp.getgrnam("nogroup").gr_gid if _has_group("nogroup") else self.uid
        if self.uid == 0:
            raise AssertionError("the attacker must not be root")

    def run(self, *cmd):
        """cmd as the attacker; fails the test if the attacker could not do it"""
        p = subprocess.run(list(cmd), user=self.uid, group=self.gid, extra_groups=[],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
        if p.returncode != 0:
            raise AssertionError("as %s: %r failed: %s" % (self.name, cmd, p.stderr))

    def remove(self):
        if self.made:
            subprocess.run(["userdel", self.name], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)


def _has_group(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


ATTACKER = None


# ---------------------------------------------------------------- what must not change

def file_flags(path):
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        buf = fcntl.ioctl(fd, FS_IOC_GETFLAGS, b"\0" * 8)
        return struct.unpack("i", buf[:4])[0]
    except OSError:
        return None
    finally:
        os.close(fd)


def set_append_only(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        flags = struct.unpack("i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, b"\0" * 8)[:4])[0]
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("i", flags | FS_APPEND_FL) + b"\0" * 4)
    finally:
        os.close(fd)


def snapshot(top):
    """every file and directory under top (top too): content, owner, mode, flags"""
    out = {}
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for name in [None] + dirnames + filenames:
            p = dirpath if name is None else os.path.join(dirpath, name)
            st = os.lstat(p)
            entry = {"uid": st.st_uid, "gid": st.st_gid, "mode": oct(st.st_mode)}
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    entry["sha256"] = hashlib.sha256(f.read()).hexdigest()
            if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
                entry["flags"] = file_flags(p)
            elif stat.S_ISLNK(st.st_mode):
                entry["target"] = os.readlink(p)
            out[p] = entry
    return out


def check_unchanged(before, top):
    after = snapshot(top)
    if after != before:
        diff = {p: (before.get(p), after.get(p)) for p in set(before) | set(after)
                if before.get(p) != after.get(p)}
        raise AssertionError("files outside the log directory changed: %r" % diff)


class Scene:
    """tmp (0755 so the attacker can reach in), tmp/victims: what must not change"""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="onm-hard-")
        os.chmod(self.tmp, 0o755)
        self.victims = os.path.join(self.tmp, "victims")
        os.mkdir(self.victims, 0o755)
        self.victim = os.path.join(self.victims, "passwd")
        with open(self.victim, "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
        self.empty = os.path.join(self.victims, "empty")
        open(self.empty, "w").close()
        self.evidence = os.path.join(self.victims, "evidence.log")
        with open(self.evidence, "w") as f:
            f.write("an append-only file that is not onmitsu's\n")
        for p in (self.victim, self.empty, self.evidence):
            os.chmod(p, 0o644)
        set_append_only(self.evidence)
        self.etc = os.path.join(self.victims, "etc")
        os.mkdir(self.etc, 0o755)
        with open(os.path.join(self.etc, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n")

    def shared_dir(self, name, mode=0o777):
        """a root-owned directory every user may write, as an admin might make it"""
        d = os.path.join(self.tmp, name)
        os.mkdir(d)
        os.chmod(d, mode)
        return d

    def snapshot(self):
        return snapshot(self.victims)

    def check_unchanged(self, before):
        check_unchanged(before, self.victims)

    def close(self):
        harness.kill_leftovers()
        subprocess.run(["chattr", "-R", "-a", self.tmp], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(self.tmp, ignore_errors=True)


def refused(cmd, *names, timeout=30):
    """cmd (as root) must exit 1, in time, naming every one of names"""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError("%r did not refuse within %d s (it hung or went on)" %
                             (cmd, timeout))
    if p.returncode != 1:
        raise AssertionError("%r exited %d, want 1: %s" % (cmd, p.returncode, err))
    for n in names:
        if n not in err:
            raise AssertionError("the error of %r does not name %r: %r" % (cmd, n, err))
    return err


def record_refused(log_dir, *names):
    return refused([ONMITSU, "record", "--log-dir", log_dir], *names)


# ---------------------------------------------------------------- tests

def test_linked_lock_file():
    """onmitsu.lock -> a victim: it was truncated and given root's pid"""
    s = Scene()
    try:
        log = s.shared_dir("log")
        ATTACKER.run("ln", "-s", s.victim, os.path.join(log, "onmitsu.lock"))
        before = s.snapshot()
        err = record_refused(log, os.path.join(log, "onmitsu.lock"))
        if "symbolic link" not in err:
            raise AssertionError("the error does not say what is wrong: %r" % err)
        s.check_unchanged(before)
    finally:
        s.close()


def test_linked_active_segment():
    """onmitsu.csv -> the user's file (the whole log went there) or a foreign append-only
    file (its flag was lifted before the header check refused it)"""
    s = Scene()
    try:
        for target in (s.empty, s.evidence):
            log = s.shared_dir("log-" + os.path.basename(target))
            ATTACKER.run("ln", "-s", target, os.path.join(log, "onmitsu.csv"))
            before = s.snapshot()
            record_refused(log, os.path.join(log, "onmitsu.csv"), "symbolic link")
            s.check_unchanged(before)
            if file_flags(s.evidence) & FS_APPEND_FL == 0:
                raise AssertionError("the foreign file lost its append-only flag")
    finally:
        s.close()


def test_fifo_as_lock_or_log():
    """a FIFO where the lock or the active segment belongs: a clear error, no hang"""
    s = Scene()
    try:
        for name in ("onmitsu.lock", "onmitsu.csv"):
            log = s.shared_dir("log-" + name)
            ATTACKER.run("mkfifo", os.path.join(log, name))
            before = s.snapshot()
            record_refused(log, os.path.join(log, name), "FIFO")
            s.check_unchanged(before)
    finally:
        s.close()


def test_linked_log_dir():
    """--log-dir through a link the user planted: its target was made 0700 and root's"""
    s = Scene()
    try:
        spool = s.shared_dir("spool")
        ATTACKER.run("ln", "-s", s.etc, os.path.join(spool, "log"))
        before = s.snapshot()
        record_refused(os.path.join(spool, "log"), os.path.join(spool, "log"), "symbolic link")
        s.check_unchanged(before)
        # a link further up the path, to a directory under which the log is made
        ATTACKER.run("ln", "-s", s.victims, os.path.join(spool, "onm"))
        record_refused(os.path.join(spool, "onm", "etc"), os.path.join(spool, "onm"),
                       "symbolic link")
        record_refused(os.path.join(spool, "onm", "new"), os.path.join(spool, "onm"))
        s.check_unchanged(before)
    finally:
        s.close()


def test_log_dir_owned_by_the_user():
    """a log directory the user owns is refused, not taken from them (it was chowned)"""
    s = Scene()
    try:
        log = os.path.join(s.tmp, "log")
        os.mkdir(log, 0o755)
        os.chown(log, ATTACKER.uid, ATTACKER.gid)
        st = os.stat(log)
        err = record_refused(log, log)
        if "owned by uid %d" % ATTACKER.uid not in err:
            raise AssertionError("the error does not say whose it is: %r" % err)
        check_eq("owner of the refused directory", (os.stat(log).st_uid, os.stat(log).st_mode),
                 (st.st_uid, st.st_mode))
        check_eq("files made in it", os.listdir(log), [])
    finally:
        s.close()


def test_keygen_linked_key_new():
    """KEY.new -> a victim: the key was written into it"""
    s = Scene()
    try:
        keys = s.shared_dir("keys")
        key = os.path.join(keys, "seal.key")
        ATTACKER.run("ln", "-s", s.victim, key + ".new")
        before = s.snapshot()
        # a key directory anyone can write is no place for a key
        refused([ONMITSU, "keygen", "--key", key], keys)
        s.check_unchanged(before)
        # sticky, like /tmp: the user's KEY.new is removed, never opened
        os.chmod(keys, 0o1777)
        p = subprocess.run([ONMITSU, "keygen", "--key", key], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        check_eq("keygen in a sticky directory: %s" % p.stderr, p.returncode, 0)
        s.check_unchanged(before)
        st = os.lstat(key)
        check_eq("the key", (stat.S_ISREG(st.st_mode), st.st_uid, oct(st.st_mode & 0o777)),
                 (True, 0, "0o600"))
        check_eq("a KEY.new left", os.path.lexists(key + ".new"), False)
        # the recorder does not read a key the user planted
        os.unlink(key)
        ATTACKER.run("ln", "-s", s.victim, key)
        log = os.path.join(s.tmp, "log")
        refused([ONMITSU, "record", "--log-dir", log, "--seal-key", key], key, "symbolic link")
        s.check_unchanged(before)
    finally:
        s.close()


def test_planted_segments_are_left_alone():
    """a linked closed segment and .zst.tmp, a FIFO named like a segment: the recorder
    runs and compresses nothing through them; the read-only commands do not hang on
    those nor on a FIFO as onmitsu.lock (verify hung there)"""
    s = Scene()
    try:
        log = s.shared_dir("log")
        ATTACKER.run("ln", "-s", s.victim, os.path.join(log, SEGMENT_NAME))
        ATTACKER.run("ln", "-s", s.empty, os.path.join(log, SEGMENT_NAME.replace(
            "000000000000", "000000000001") + ".zst.tmp"))
        ATTACKER.run("mkfifo", os.path.join(log, SEGMENT_NAME.replace("000000000000",
                                                                      "000000000002")))
        before = s.snapshot()
        rec = harness.Recorder(log)
        time.sleep(1.0)  # the compressor looks at what an earlier run left
        rec.stop()
        s.check_unchanged(before)
        check_eq("log dir mode (taken over)", oct(os.stat(log).st_mode & 0o777), "0o700")
        if not os.path.islink(os.path.join(log, SEGMENT_NAME)):
            raise AssertionError("the linked segment was replaced: %r" % os.listdir(log))
        if os.path.exists(os.path.join(log, SEGMENT_NAME + ".zst")):
            raise AssertionError("the linked segment was compressed (read through the link)")
        # and a FIFO where verify looks for the running recorder's lock
        os.chmod(log, 0o777)
        ATTACKER.run("rm", "-f", os.path.join(log, "onmitsu.lock"))
        ATTACKER.run("mkfifo", os.path.join(log, "onmitsu.lock"))
        for cmd in (["cat"], ["who", "--pid", "1"], ["verify"]):
            q = subprocess.run([ONMITSU, *cmd, "--log-dir", log], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=30)
            if q.returncode not in (0, 1):
                raise AssertionError("%r exited %d: %s" % (cmd, q.returncode, q.stderr))
        s.check_unchanged(before)
    finally:
        s.close()


TESTS = [test_linked_lock_file, test_linked_active_segment, test_fifo_as_lock_or_log,
         test_linked_log_dir, test_log_dir_owned_by_the_user, test_keygen_linked_key_new,
         test_planted_segments_are_left_alone]


def main():
    global ATTACKER
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    rc = harness.needs_root("e2e-hardening", "hardening tests")
    if rc is not None:
        return rc
    if not os.access(ONMITSU, os.X_OK):
        print("FAIL e2e-hardening: %s is missing; run make setup all first" % ONMITSU)
        print("0 passed, 1 failed")
        return 1
    try:
        ATTACKER = Attacker()
    except Exception:
        print("FAIL e2e-hardening: cannot make an unprivileged user\n" + traceback.format_exc())
        print("0 passed, 1 failed")
        return 1
    try:
        results = [harness.run_test(t.__name__, t) for t in TESTS if only in t.__name__]
    finally:
        ATTACKER.remove()
    return harness.report("e2e-hardening", results)


if __name__ == "__main__":
    sys.exit(main())
