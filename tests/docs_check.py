#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
The man page and the installed documentation cannot drift from the program:

- docs/onmitsu.8 renders without a warning (groff -ww) and through man -l;
- its .TH names the version in VERSION;
- every command `onmitsu --help` lists has its own subsection, "onmitsu CMD",
  and a line in SYNOPSIS;
- every option (long and short) in each `onmitsu CMD --help` is in that
  command's subsection (or in the COMMANDS preamble, which holds the options
  every command takes), and every option the subsection describes (its
  tagged paragraphs) is in that --help: an option added, renamed or removed
  on one side only fails here;
- README.md and docs/FORMAT.md show the CSV header line the writer writes;
- `make install` into a temporary DESTDIR installs documentation in which
  every relative link (and #anchor) points to a file that is installed.

Needs build/onmitsu (make all); no root. Ends with "N passed, N failed".
Usage: tests/docs_check.py [NAME-SUBSTRING]
       tests/docs_check.py --links DIR   (only the link check, of DIR)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONMITSU = os.path.join(ROOT, "build", "onmitsu")
MAN = os.path.join(ROOT, "docs", "onmitsu.8")

# options every command takes, described once in the COMMANDS preamble
COMMON = {"--log-dir", "-d", "--help", "-h"}


def run(*cmd, **kw):
    return subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=120, **kw)


def render(path):
    """the page as plain text: no hyphenation and long lines, so that no option
    is split, no overstrike or colour"""
    r = run("groff", "-mandoc", "-Tutf8", "-rHY=0", "-rLL=200n", "-P-cbou", path)
    if r.returncode != 0:
        raise AssertionError("groff failed on %s: %s" % (path, r.stderr))
    return r.stdout


def sections(text):
    """{"NAME": text} for each .SH and {"onmitsu CMD": text} for each .SS of
    COMMANDS; "COMMANDS" holds only the preamble before the first .SS"""
    out = {}
    name = None
    for line in text.split("\n"):
        m = re.match(r"^([A-Z][A-Z ]+)$", line)
        s = re.match(r"^   (onmitsu [a-z]+)$", line)
        if m:
            name = m.group(1)
        elif s:
            name = s.group(1)
        elif name:
            out.setdefault(name, []).append(line)
            continue
        else:
            continue
        out.setdefault(name, [])
    return {k: "\n".join(v) for k, v in out.items()}


def commands():
    r = run(ONMITSU, "--help")
    if r.returncode != 0:
        raise AssertionError("onmitsu --help exited %d: %s" % (r.returncode, r.stderr))
    block = r.stdout.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    cmds = [l.split()[0] for l in block.split("\n") if l.startswith("  ")]
    if len(cmds) < 9:
        raise AssertionError("onmitsu --help lists only %r" % cmds)
    return cmds


def help_options(cmd):
    r = run(ONMITSU, cmd, "--help")
    if r.returncode != 0:
        raise AssertionError("onmitsu %s --help exited %d: %s" % (cmd, r.returncode, r.stderr))
    longs = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*[a-z0-9])", r.stdout))
    shorts = set(re.findall(r"^\s+(-[a-zA-Z]),", r.stdout, re.M))
    return longs | shorts


def has_option(text, opt):
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(opt), text) is not None


def tagged_options(text):
    """the options in the subsection's .TP tags (rendered at indent 7)"""
    opts = set()
    for line in text.split("\n"):
        if re.match(r"^ {7}-", line):
            opts |= set(re.findall(r"(?<![\w-])(--?[a-zA-Z][a-z0-9-]*)", line))
    return opts


# ---------------------------------------------------------------- the checks

def test_man_renders_without_warnings():
    r = run("groff", "-ww", "-mandoc", "-Tutf8", MAN)
    if r.returncode != 0 or r.stderr:
        raise AssertionError("groff -ww: exit %d, %s" % (r.returncode, r.stderr))
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_STDERR="1", LC_ALL="C.UTF-8")
    r = run("man", "--warnings", "-l", MAN, env=env)
    if r.returncode != 0 or r.stderr or "onmitsu correlate" not in r.stdout:
        raise AssertionError("man -l: exit %d, %s" % (r.returncode, r.stderr))


def test_man_version_is_VERSION():
    with open(os.path.join(ROOT, "VERSION")) as f:
        version = f.read().strip()
    with open(MAN) as f:
        th = [l for l in f if l.startswith(".TH ")]
    if len(th) != 1 or '"onmitsu %s"' % version not in th[0]:
        raise AssertionError("docs/onmitsu.8 .TH %r does not name onmitsu %s" % (th, version))


def test_every_command_has_a_section():
    secs = sections(render(MAN))
    missing = [c for c in commands() if "onmitsu " + c not in secs]
    if missing:
        raise AssertionError("docs/onmitsu.8 has no subsection \"onmitsu CMD\" under COMMANDS "
                             "for: %s (found %s)" % (", ".join(missing), sorted(secs)))
    synopsis = secs.get("SYNOPSIS", "")
    missing = [c for c in commands() if not re.search(r"^ *onmitsu %s\b" % c, synopsis, re.M)]
    if missing:
        raise AssertionError("SYNOPSIS of docs/onmitsu.8 lacks: %s" % ", ".join(missing))


def test_every_help_option_is_in_the_man_page():
    secs = sections(render(MAN))
    preamble = secs.get("COMMANDS", "")
    bad = []
    for c in commands():
        text = secs.get("onmitsu " + c, "")
        for opt in sorted(help_options(c)):
            if not has_option(text, opt) and not (opt in COMMON and has_option(preamble, opt)):
                bad.append("onmitsu %s %s" % (c, opt))
    if bad:
        raise AssertionError("in --help but not in that command's part of docs/onmitsu.8: " +
                             ", ".join(bad))


def test_every_man_option_is_in_help():
    secs = sections(render(MAN))
    bad = []
    for c in commands():
        opts = help_options(c) | COMMON
        for opt in sorted(tagged_options(secs.get("onmitsu " + c, ""))):
            if opt not in opts:
                bad.append("onmitsu %s %s" % (c, opt))
    if bad:
        raise AssertionError("described in docs/onmitsu.8 but not in that command's --help "
                             "(removed or renamed?): " + ", ".join(bad))


# ---------------------------------------------------------------- links

def slug(heading):
    """the anchor a Markdown renderer (GitHub's rule) gives a heading"""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"```.*?```", "", f.read(), flags=re.S)
    return {slug(m) for m in re.findall(r"^#+\s+(.*)$", text, re.M)}


def broken_links(docdir):
    """every relative link of every .md file under docdir that points to a file
    (or a #heading) that is not there: ["FILE: link", ...]"""
    bad = []
    found = 0
    for top, _, files in os.walk(docdir):
        for name in sorted(files):
            if not name.endswith(".md"):
                continue
            path = os.path.join(top, name)
            with open(path, encoding="utf-8") as f:
                text = re.sub(r"```.*?```", "", f.read(), flags=re.S)
            for link in re.findall(r"\]\(([^)\s]+)\)", text):
                found += 1
                if re.match(r"^[a-z][a-z0-9+.-]*:", link):
                    continue  # http:, https:, mailto:
                target, _, frag = link.partition("#")
                dest = os.path.normpath(os.path.join(top, target)) if target else path
                rel = os.path.relpath(path, docdir)
                if not dest.startswith(os.path.normpath(docdir) + os.sep):
                    bad.append("%s: %s leaves the documentation directory" % (rel, link))
                elif not os.path.isfile(dest):
                    bad.append("%s: %s is not installed" % (rel, link))
                elif frag and dest.endswith(".md") and frag not in anchors(dest):
                    bad.append("%s: %s names no heading of %s" % (rel, link, target or name))
    if found == 0:
        bad.append("no link found in %s: not the documentation directory?" % docdir)
    return bad


def test_installed_docs_links_resolve():
    tmp = tempfile.mkdtemp(prefix="onmitsu-docs-")
    try:
        r = run("make", "-s", "install", "DESTDIR=" + tmp, "PREFIX=/usr", cwd=ROOT)
        if r.returncode != 0:
            raise AssertionError("make install DESTDIR=%s: %s%s" % (tmp, r.stdout, r.stderr))
        docdir = os.path.join(tmp, "usr", "share", "doc", "onmitsu")
        for must in ("README.md", "docs/QUERY.md", "docs/FORMAT.md"):
            if not os.path.isfile(os.path.join(docdir, must)):
                raise AssertionError("make install did not install %s" % must)
        bad = broken_links(docdir)
        if bad:
            raise AssertionError("broken links in the installed documentation:\n  " +
                                 "\n  ".join(bad))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_csv_header_in_docs_is_the_programs():
    """README's and FORMAT.md's CSV header line is the one the writer writes
    (the golden log's first line, which the unit tests hold to the code)"""
    with open(os.path.join(ROOT, "tests", "data", "golden", "writer-csv.cat-csv.out")) as f:
        header = f.readline().strip()
    if not header.startswith("time,seq,event,") or not header.endswith(",chain"):
        raise AssertionError("the golden log's first line is no header: %r" % header)
    for doc in ("README.md", os.path.join("docs", "FORMAT.md")):
        with open(os.path.join(ROOT, doc)) as f:
            lines = [ln.strip() for ln in f if ln.strip().startswith("time,seq,event,")]
        if not lines:
            raise AssertionError("%s shows no CSV header line" % doc)
        for ln in lines:
            if ln != header:
                raise AssertionError("%s shows the header\n  %s\nbut the writer writes\n  %s" %
                                     (doc, ln, header))


TESTS = [test_csv_header_in_docs_is_the_programs, test_man_renders_without_warnings, test_man_version_is_VERSION,
         test_every_command_has_a_section, test_every_help_option_is_in_the_man_page,
         test_every_man_option_is_in_help, test_installed_docs_links_resolve]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--links":
        bad = broken_links(sys.argv[2])
        for b in bad:
            print(b)
        return 1 if bad else 0
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    for tool in ("groff", "man", "make"):
        if not shutil.which(tool):
            print("FAIL docs: %s is missing (scripts/setup installs it)" % tool)
            print("0 passed, 1 failed")
            return 1
    if not os.access(ONMITSU, os.X_OK):
        print("FAIL docs: %s is missing; run make all first" % ONMITSU)
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    for t in TESTS:
        if only not in t.__name__:
            continue
        try:
            t()
            print("ok   docs %s" % t.__name__)
            passed += 1
        except Exception:
            print("FAIL docs %s\n%s" % (t.__name__, traceback.format_exc()))
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
