#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
The Debian package, end to end, on this machine (issue 12):

- `make deb` builds it (with DEB_BUILD_OPTIONS=nocheck: the unit tests are a
  layer of their own) and lintian finds nothing that is not explained in
  debian/onmitsu.lintian-overrides; every file `make install` installs is in
  it, with the same mode (debhelper's dh_fixperms makes a 0600 file 0644
  unless debian/rules says otherwise);
- `dpkg -i` installs it: /usr/bin/onmitsu of this tree's VERSION, the log
  directory /var/log/onmitsu made 0700 root:root, the unit in
  /lib/systemd/system enabled (its sysinit.target.wants link), onmitsu(8)
  gzip'd, which `man -l` renders with a part for every command the installed
  binary's --help lists, and documentation (README, docs/QUERY.md, ...) in
  which every relative link points to an installed file;
- the installed binary records a few seconds into a temporary log directory
  (started directly, as the unit would: where systemd is not PID 1, as in CI,
  the unit cannot be started; where it is, the test also checks that the
  package started it), an EXEC and a loopback connection of this test are in
  the log, `who` attributes the connection, and `verify` passes; it also
  records into the package's /var/log/onmitsu and is killed there (SIGKILL),
  leaving an append-only segment behind, as a crash would, and makes a
  sealing key (/etc/onmitsu/seal.key) with `onmitsu keygen`;
- `dpkg --remove` removes the program and the unit, and keeps the log and the
  key; `dpkg --purge` then removes everything: each file and directory `dpkg -L`
  listed that was not there before, the log directory (with the crashed
  recorder's segment), /etc/onmitsu with the key, the unit's enable link and
  deb-systemd-helper's state, dpkg's own record of the package; without a
  warning.

The machine is left as it was found, also on failure: the package is purged,
and a /var/log/onmitsu or /etc/onmitsu that existed before is moved aside for
the test and put back. An installed onmitsu package, or an enabled unit of a
`make install`, is not touched: the test cannot run then (a failure under
CI=true). Needs root. Ends with "N passed, N failed".
Usage: tests/e2e/test_package.py [NAME-SUBSTRING]
"""
import csv
import io
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
import harness  # noqa: E402
import docs_check  # noqa: E402

ROOT = harness.ROOT
PKG = "onmitsu"
BIN = "/usr/bin/onmitsu"
LOG_DIR = "/var/log/onmitsu"
ETC_DIR = "/etc/onmitsu"
UNIT = "/lib/systemd/system/onmitsu.service"
WANTS = "/etc/systemd/system/sysinit.target.wants/onmitsu.service"
LOCAL_UNIT = "/etc/systemd/system/onmitsu.service"  # make install's
HELPER_STATE = "/var/lib/systemd/deb-systemd-helper-enabled/onmitsu.service.dsh-also"
MAN = "/usr/share/man/man8/onmitsu.8.gz"
DOC = "/usr/share/doc/onmitsu"
TOOLS = ("dpkg-buildpackage", "dh", "lintian", "man", "chattr")


def sh(*cmd, timeout=120, **kw):
    return subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, **kw)


def dpkg(*args):
    """dpkg, waiting (bounded) while another dpkg or apt holds its lock"""
    deadline = time.time() + 120
    while True:
        r = sh("dpkg", *args)
        if r.returncode == 0 or "lock" not in r.stderr or time.time() > deadline:
            return r
        time.sleep(2)


def known_to_dpkg():
    r = sh("dpkg-query", "-W", "-f=${Status}", PKG)
    return r.returncode == 0 and "not-installed" not in r.stdout


def exists(path):
    return os.path.lexists(path)


def rm_log_tree(path):
    """a log directory of the recorder's, append-only segments and all"""
    if os.path.isdir(path) and not os.path.islink(path):
        sh("chattr", "-R", "-a", path)
        shutil.rmtree(path, ignore_errors=True)
    elif exists(path):
        os.unlink(path)


class Machine:
    """moves what the package would take over aside, and puts it back"""

    def __init__(self, paths=(LOG_DIR, ETC_DIR), package_here=known_to_dpkg):
        self.paths = paths
        self.package_here = package_here
        self.saved = []
        self.armed = False  # set_aside succeeded: the package and these paths are the test's

    def set_aside(self):
        if self.package_here():
            raise harness.CannotRun("the onmitsu package is on this machine already; the test "
                                    "would replace and purge it (dpkg --purge onmitsu first)")
        for p in (WANTS, UNIT, LOCAL_UNIT):
            if exists(p):
                raise harness.CannotRun("%s exists (a make install?): the test would take it "
                                        "over" % p)
        for path in self.paths:
            if exists(path):
                aside = "%s.package-test-%d" % (path, os.getpid())
                os.rename(path, aside)
                self.saved.append((path, aside))
        self.armed = True

    def restore(self):
        """purges the package and removes what it made only when set_aside
        succeeded (an installed package and its log are never touched); puts
        back what was set aside"""
        problems = []
        if self.armed:
            self.armed = False
            if self.package_here():
                r = dpkg("--purge", PKG)
                if r.returncode != 0:
                    problems.append("dpkg --purge: %s" % r.stderr)
            # whatever is there now was made during the test (what was there
            # before is aside): a purge that left it is reported by the test
            for path in self.paths:
                try:
                    rm_log_tree(path)
                except OSError as e:
                    problems.append("cannot remove %s: %s" % (path, e))
                if exists(path):
                    problems.append("cannot remove %s" % path)
        for path, aside in self.saved:
            try:
                os.rename(aside, path)
            except OSError as e:
                problems.append("cannot put %s back from %s: %s" % (path, aside, e))
        self.saved = []
        return problems


def deb_path():
    with open(os.path.join(ROOT, "VERSION")) as f:
        version = f.read().strip()
    arch = sh("dpkg", "--print-architecture").stdout.strip()
    return version, os.path.join(ROOT, "build", "deb", "%s_%s_%s.deb" % (PKG, version, arch))


def build():
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck")
    r = sh("make", "deb", cwd=ROOT, env=env, timeout=900)
    if r.returncode != 0:
        raise AssertionError("make deb failed (%d):\n%s\n%s" %
                             (r.returncode, r.stdout[-3000:], r.stderr[-3000:]))
    version, deb = deb_path()
    if not os.path.isfile(deb):
        raise AssertionError("make deb made no %s: %s" % (deb, os.listdir(os.path.dirname(deb))))
    return version, deb


def check_lintian(deb):
    r = sh("lintian", "--pedantic", "--fail-on", "error,warning,info,pedantic", deb, timeout=300)
    if r.returncode != 0:
        raise AssertionError("lintian finds tags that debian/onmitsu.lintian-overrides does not "
                             "explain:\n%s%s" % (r.stdout, r.stderr))


def check_contents(deb):
    r = sh("dpkg-deb", "-c", deb)
    names = [l.split(None, 5)[5].split(" -> ")[0].lstrip(".") for l in r.stdout.splitlines()]
    for want in (BIN, MAN, UNIT, DOC + "/README.md", DOC + "/docs/QUERY.md", DOC + "/copyright"):
        if want not in names:
            raise AssertionError("%s is not in the package: %s" % (want, names))
    bad = [n for n in names if n.startswith(("/usr/local", "/var/log", "/etc/systemd"))]
    if bad:
        raise AssertionError("the package holds files where it must not: %s" % bad)


def perm_bits(text):
    """0o755 from "-rwxr-xr-x" (set-id and sticky bits as ls shows them)"""
    mode = 0
    for i, c in enumerate(text[1:10]):
        if c != "-":
            mode |= 1 << (8 - i)
    for i, (low, up, bit) in enumerate((("s", "S", 0o4000), ("s", "S", 0o2000),
                                        ("t", "T", 0o1000))):
        c = text[3 + 3 * i]
        if c in (low, up):
            mode |= bit
            if c == up:
                mode &= ~(1 << (6 - 3 * i))
    return mode


def check_same_as_make_install(deb):
    """every file `make install` installs is in the package (the man page
    gzip'd), with the mode make install gives it: what the Makefile says is
    what the package does (debhelper resets modes it does not know)"""
    r = sh("dpkg-deb", "-c", deb)
    got = {}
    for l in r.stdout.splitlines():
        f = l.split(None, 5)
        if f[0].startswith("-"):
            got["/" + f[5].lstrip("./")] = perm_bits(f[0])
    tmp = tempfile.mkdtemp(prefix="onmitsu-install-")
    try:
        r = sh("make", "-s", "install", "DESTDIR=" + tmp, "PREFIX=/usr",
               "UNITDIR=/lib/systemd/system", cwd=ROOT, timeout=600)
        if r.returncode != 0:
            raise AssertionError("make install: %s%s" % (r.stdout, r.stderr))
        bad = []
        for top, _, files in os.walk(tmp):
            for name in files:
                path = os.path.join(top, name)
                rel = "/" + os.path.relpath(path, tmp)
                mode = stat.S_IMODE(os.lstat(path).st_mode)
                key = rel if rel in got else rel + ".gz"
                if key not in got:
                    bad.append("%s is not in the package" % rel)
                elif got[key] != mode:
                    bad.append("%s is mode %04o in the package, %04o after make install" %
                               (key, got[key], mode))
        if bad:
            raise AssertionError("the package differs from make install:\n  " +
                                 "\n  ".join(sorted(bad)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_installed(version):
    r = sh(BIN, "version")
    harness.check_eq("installed onmitsu version", r.stdout.strip(), "onmitsu " + version)
    st = os.lstat(LOG_DIR)
    if not stat.S_ISDIR(st.st_mode):
        raise AssertionError("%s is not a directory after install" % LOG_DIR)
    harness.check_eq("mode of %s" % LOG_DIR, oct(stat.S_IMODE(st.st_mode)), oct(0o700))
    harness.check_eq("owner of %s" % LOG_DIR, (st.st_uid, st.st_gid), (0, 0))
    with open(UNIT) as f:
        unit = f.read()
    if not re.search(r"^ExecStart=%s record\b" % re.escape(BIN), unit, re.M):
        raise AssertionError("the installed unit does not run %s record: %s" % (BIN, unit))
    if os.readlink(WANTS) != UNIT:
        raise AssertionError("%s points to %s, not %s" % (WANTS, os.readlink(WANTS), UNIT))
    if os.path.isdir("/run/systemd/system"):
        # systemd is PID 1: the package started the recorder
        r = sh("systemctl", "is-active", "onmitsu.service")
        harness.check_eq("systemctl is-active onmitsu (%s)" % r.stderr, r.stdout.strip(),
                         "active")
        # the test's own recorder takes the package's log directory below
        r = sh("systemctl", "stop", "onmitsu.service")
        harness.check_eq("systemctl stop onmitsu (%s)" % r.stderr, r.returncode, 0)


def check_man():
    env = dict(os.environ, MANWIDTH="100", LC_ALL="C.UTF-8")
    r = sh("man", "--warnings", "-l", MAN, env=env)
    if r.returncode != 0 or r.stderr:
        raise AssertionError("man -l %s: exit %d: %s" % (MAN, r.returncode, r.stderr))
    text = r.stdout
    help_text = sh(BIN, "--help").stdout
    cmds = [l.split()[0] for l in help_text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
            .splitlines() if l.startswith("  ")]
    missing = [c for c in cmds if "   onmitsu %s\n" % c not in text]
    if len(cmds) < 9 or missing:
        raise AssertionError("the installed man page has no part for %s (commands: %s)" %
                             (missing, cmds))
    r = sh("man", "-w", "8", "onmitsu")
    harness.check_eq("man -w 8 onmitsu", r.stdout.strip(), MAN)


def check_docs():
    for must in ("README.md", "docs/QUERY.md", "docs/FORMAT.md", "copyright"):
        if not os.path.isfile(os.path.join(DOC, must)):
            raise AssertionError("%s/%s is not installed" % (DOC, must))
    bad = docs_check.broken_links(DOC)
    if bad:
        raise AssertionError("links to files that are not installed:\n  " + "\n  ".join(bad))


def record_through_installed(tmp):
    """a few seconds of the installed recorder; returns the log's records"""
    log = os.path.join(tmp, "log")
    marker = "onmitsu-package-test-%d" % os.getpid()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    try:
        rec = harness.Recorder(log, binary=BIN)
        subprocess.run(["/bin/true", marker], timeout=10)
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        a, _ = srv.accept()
        a.close()
        c.close()
        time.sleep(2)  # the recorder writes at least once a second
        rec.stop()
    finally:
        srv.close()
    r = sh(BIN, "verify", "--log-dir", log)
    harness.check_eq("installed onmitsu verify (%s%s)" % (r.stdout, r.stderr), r.returncode, 0)
    r = sh(BIN, "cat", "--log-dir", log, "--format", "csv")
    harness.check_eq("installed onmitsu cat (%s)" % r.stderr, r.returncode, 0)
    records = list(csv.DictReader(io.StringIO(r.stdout)))
    if not [x for x in records if x["event"] == "EXEC" and x["cmdline"] == "/bin/true " + marker]:
        raise AssertionError("no EXEC of /bin/true %s in the log" % marker)
    for kind in ("START", "STOP"):
        if not [x for x in records if x["event"] == kind]:
            raise AssertionError("no %s in the log" % kind)
    r = sh(BIN, "who", "--log-dir", log, "--dst", "127.0.0.1:%d" % port, "--csv")
    flows = list(csv.DictReader(io.StringIO(r.stdout)))
    mine = [f for f in flows if f["pid"] == str(os.getpid()) and f["direction"] == "out"]
    if len(mine) != 1 or mine[0]["result"] != "established":
        raise AssertionError("who --dst 127.0.0.1:%d: want this test's connect, got %r (%s)" %
                             (port, flows, r.stderr))


def crash_in_package_log_dir():
    """the installed recorder in the package's log directory, killed: its
    segment stays append-only where the file system has the flag"""
    rec = harness.Recorder(LOG_DIR, binary=BIN)
    rec.proc.send_signal(signal.SIGKILL)
    rec.proc.wait(timeout=10)
    rec.kill()
    seg = os.path.join(LOG_DIR, "onmitsu.csv")
    with open(seg) as f:
        start = [x for x in csv.DictReader(f) if x["event"] == "START"]
    if len(start) != 1:
        raise AssertionError("the recorder wrote no START into %s" % seg)
    if "append_only=1" in start[0]["detail"].split():
        # the file system has the flag: purge must lift it to remove the log
        flags = sh("lsattr", seg).stdout.split()[0]
        if "a" not in flags:
            raise AssertionError("%s is not append-only after a crash: %s" % (seg, flags))
    else:
        print("note: %s has no append-only flag here: purge is tested without it" % LOG_DIR)


def test_package_builds_installs_records_and_purges():
    if not os.path.isdir("/run/systemd/system"):
        print("note: systemd is not PID 1 here: the unit is installed and enabled but not "
              "started; the test records through %s directly" % BIN)
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        raise harness.CannotRun("%s missing (scripts/setup installs them)" % ", ".join(missing))
    version, deb = build()
    check_lintian(deb)
    check_contents(deb)
    check_same_as_make_install(deb)
    machine = Machine()
    tmp = tempfile.mkdtemp(prefix="onmitsu-package-")
    done = False
    try:
        machine.set_aside()
        # what exists before the package, so that its shared directories
        # (/usr/bin, /lib/systemd/system, ...) are not expected to go
        before = set()
        r = sh("dpkg-deb", "-c", deb)
        for l in r.stdout.splitlines():
            name = l.split(None, 5)[5].split(" -> ")[0]
            p = os.path.normpath("/" + name.lstrip("./"))
            if exists(p):
                before.add(p)
        r = dpkg("-i", deb)
        if r.returncode != 0:
            raise AssertionError("dpkg -i %s: %s%s" % (deb, r.stdout, r.stderr))
        check_installed(version)
        check_man()
        check_docs()
        record_through_installed(tmp)
        crash_in_package_log_dir()
        r = sh(BIN, "keygen")
        harness.check_eq("installed onmitsu keygen (%s)" % r.stderr, r.returncode, 0)
        listed = [os.path.normpath(p) for p in sh("dpkg", "-L", PKG).stdout.splitlines()
                  if p.startswith("/")]
        # remove keeps the log and the sealing key; purge removes them
        r = dpkg("--remove", PKG)
        if r.returncode != 0:
            raise AssertionError("dpkg --remove: %d %s%s" % (r.returncode, r.stdout, r.stderr))
        for p in (BIN, UNIT):
            if exists(p):
                raise AssertionError("%s is still there after dpkg --remove" % p)
        for p in (os.path.join(LOG_DIR, "onmitsu.csv"), os.path.join(ETC_DIR, "seal.key")):
            if not exists(p):
                raise AssertionError("dpkg --remove removed %s" % p)
        r = dpkg("--purge", PKG)
        if r.returncode != 0 or "warning" in (r.stdout + r.stderr).lower():
            raise AssertionError("dpkg --purge: %d %s%s" % (r.returncode, r.stdout, r.stderr))
        left = [p for p in listed if p not in before and exists(p)]
        left += [p for p in (LOG_DIR, ETC_DIR, WANTS, HELPER_STATE, UNIT, BIN, MAN)
                 if exists(p)]
        left += [os.path.join("/var/lib/dpkg/info", n) for n in os.listdir("/var/lib/dpkg/info")
                 if n.startswith(PKG + ".")]
        if left:
            raise AssertionError("left behind after dpkg --purge: %s" % sorted(set(left)))
        if known_to_dpkg():
            raise AssertionError("dpkg still knows onmitsu after --purge")
        done = True
    finally:
        harness.kill_leftovers()
        problems = machine.restore()
        rm_log_tree(os.path.join(tmp, "log"))
        shutil.rmtree(tmp, ignore_errors=True)
        if problems and done:
            raise AssertionError("; ".join(problems))


def test_an_installed_package_and_its_log_are_left_alone():
    """where onmitsu is installed already the test refuses, and its cleanup
    neither purges the package nor touches the log (in a temporary stand-in
    for /var/log/onmitsu and /etc/onmitsu)"""
    tmp = tempfile.mkdtemp(prefix="onmitsu-package-")
    try:
        paths = (os.path.join(tmp, "log"), os.path.join(tmp, "etc"))
        for p in paths:
            os.mkdir(p)
            with open(os.path.join(p, "evidence"), "w") as f:
                f.write("keep\n")
        purged = []
        machine = Machine(paths, package_here=lambda: True)
        real_dpkg = globals()["dpkg"]
        globals()["dpkg"] = lambda *a: purged.append(a) or subprocess.CompletedProcess(a, 0, "", "")
        try:
            try:
                machine.set_aside()
                raise AssertionError("set_aside went on with the package installed")
            except harness.CannotRun:
                pass
            finally:
                problems = machine.restore()
        finally:
            globals()["dpkg"] = real_dpkg
        harness.check_eq("dpkg calls of the cleanup", purged, [])
        harness.check_eq("cleanup problems", problems, [])
        for p in paths:
            harness.check_eq("what is in %s" % p, os.listdir(p), ["evidence"])
        # and the other way: what was there is set aside, what the test made
        # is removed, what was there is put back
        machine = Machine(paths, package_here=lambda: False)
        machine.set_aside()
        for p in paths:
            harness.check_eq("%s set aside" % p, exists(p), False)
            os.mkdir(p)
            open(os.path.join(p, "made-by-the-test"), "w").close()
        harness.check_eq("cleanup problems", machine.restore(), [])
        for p in paths:
            harness.check_eq("what is in %s" % p, os.listdir(p), ["evidence"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = [test_an_installed_package_and_its_log_are_left_alone,
         test_package_builds_installs_records_and_purges]


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    rc = harness.needs_root("e2e-package", "package tests (dpkg -i)")
    if rc is not None:
        return rc
    results = [harness.run_test(t.__name__, t) for t in TESTS if only in t.__name__]
    return harness.report("e2e-package", results)


if __name__ == "__main__":
    sys.exit(main())
