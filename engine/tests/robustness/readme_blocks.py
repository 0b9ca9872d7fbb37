#!/usr/bin/env python3
"""Run every command block of README.md against the build.

usage: readme_blocks.py README.md BUILD_DIR

In a fresh directory holding a `build` symlink to BUILD_DIR and with
`sluice` on PATH (BUILD_DIR/engine/sluice):

  ```sh blocks          run with `bash -e`; must exit 0
  $ COMMAND lines       (in a fence without a language) each run with bash;
                        the lines up to the next `$ ` are the expected
                        stdout+stderr, compared exactly
  other fences          synopses, sample outputs, code: not commands

Markers, an HTML comment on the line before a fence:

  <!-- readme-test: file NAME -->   the block's text is written to NAME first
  <!-- readme-test: json NAME -->   (on a sh block) the next ```json block
                                    must be a subset of the JSON file NAME
                                    the commands wrote (same keys and
                                    values; lists the same length)
  <!-- readme-test: skip (WHY) -->  not run; WHY is printed

A block that fails prints its line number, the command and what differed.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../../tests/common"))
import sltest as sl  # noqa: E402

MARK = re.compile(r"<!--\s*readme-test:\s*(\w+)\s*(.*?)\s*-->")


def blocks(path):
    """(line number, language, text lines, markers) of every fenced block."""
    out, marks, lines = [], [], open(path).read().split("\n")
    i = 0
    while i < len(lines):
        m = MARK.search(lines[i])
        if m:
            marks.append((m.group(1), m.group(2)))
        elif lines[i].startswith("```"):
            lang, start, body = lines[i][3:].strip(), i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            out.append((start, lang, body, marks))
            marks = []
        elif lines[i].strip():
            marks = []
        i += 1
    return out


def subset(want, got, where):
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return "%s: want an object, got %r" % (where, got)
        for k, v in want.items():
            if k not in got:
                return "%s: key %r missing" % (where, k)
            err = subset(v, got[k], where + "." + k)
            if err:
                return err
        return None
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return "%s: want %d items, got %r" % (where, len(want), got)
        for n, (a, b) in enumerate(zip(want, got)):
            err = subset(a, b, "%s[%d]" % (where, n))
            if err:
                return err
        return None
    return None if want == got else "%s: README says %r, the run wrote %r" % (where, want, got)


def run_transcript(start, body, env, cwd):
    cmds, cont = [], False
    for n, line in enumerate(body):
        if cont:  # a command continued with a backslash
            cmds[-1] = (cmds[-1][0], cmds[-1][1] + "\n" + line, [])
        elif line.startswith("$ "):
            cmds.append((start + n + 1, line[2:], []))
        elif cmds:
            cmds[-1][2].append(line)
        cont = bool(cmds) and line.endswith("\\") and (cont or line.startswith("$ "))
    for lineno, cmd, want in cmds:
        p = subprocess.run(["bash", "-c", cmd + " 2>&1"], stdout=subprocess.PIPE, text=True,
                           cwd=cwd, env=env, timeout=120)
        got = p.stdout.rstrip("\n").split("\n") if p.stdout.strip() else []
        if got != want:
            return "line %d: `%s` printed %r, the README shows %r" % (lineno, cmd, got, want)
    return None


def private_runtime_dir():
    """Re-run this script in a mount namespace with a tmpfs on /var/run/dpdk,
    so that what the README's commands leave there is theirs alone (other
    programs on the machine use /var/run/dpdk too). None: done here (the
    exit code), or False where that cannot be had (not root, no unshare)."""
    if os.environ.get("SL_README_PRIVATE_RUN"):
        return True
    cmd = ("{ mkdir -p /var/run/dpdk && mount -t tmpfs sluice-readme /var/run/dpdk; } "
           "2>/dev/null || exit 97; exec \"$0\" \"$@\"")
    try:
        if subprocess.run(["unshare", "--mount", "true"], stderr=subprocess.DEVNULL).returncode:
            return False  # not allowed (not root)
        p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", cmd,
                            sys.executable, os.path.abspath(__file__)] + sys.argv[1:],
                           env=dict(os.environ, SL_README_PRIVATE_RUN="1"))
    except OSError:
        return False  # no unshare
    if p.returncode == 97:  # no tmpfs mount: nothing ran yet
        return False
    sys.exit(p.returncode)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    private = private_runtime_dir()
    readme, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    ran = skipped = 0
    dead_before = sl.stale_runtime_dirs()
    failures = []
    with sl.tmpdir("sluice-readme-") as tmp:
        os.symlink(build, os.path.join(tmp, "build"))
        bindir = os.path.join(tmp, ".bin")
        os.mkdir(bindir)
        os.symlink(os.path.join(build, "engine", "sluice"), os.path.join(bindir, "sluice"))
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
        pending_json = None
        for start, lang, body, marks in blocks(readme):
            kinds = dict(marks)
            if "file" in kinds:
                with open(os.path.join(tmp, kinds["file"]), "w") as f:
                    f.write("\n".join(body) + "\n")
            if lang == "json" and pending_json:
                got = json.load(open(os.path.join(tmp, pending_json)))
                err = subset(json.loads("\n".join(body)), got, pending_json)
                if err:
                    failures.append("line %d: %s" % (start, err))
                pending_json = None
                continue
            is_sh = lang == "sh"
            is_transcript = not lang and any(l.startswith("$ ") for l in body)
            if not is_sh and not is_transcript:
                continue
            if "skip" in kinds:
                print("skip line %d: %s" % (start, kinds["skip"]))
                skipped += 1
                continue
            ran += 1
            if is_transcript:
                err = run_transcript(start, body, env, tmp)
                if err:
                    failures.append(err)
                continue
            p = subprocess.run(["bash", "-e", "-c", "\n".join(body)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, cwd=tmp, env=env,
                               timeout=300)
            if p.returncode != 0:
                failures.append("line %d: sh block exited %d: %s" % (start, p.returncode,
                                                                     p.stdout[-600:]))
            pending_json = kinds.get("json")
        if private:  # a tmpfs of our own: anything in it was left by the README's commands
            leftover = sorted(os.listdir(sl.RUNTIME))
        else:
            print("note: no private /var/run/dpdk (not root or no unshare): checking only "
                  "runtime directories of processes that are gone")
            leftover = sorted(sl.stale_runtime_dirs() - dead_before)
        if leftover:
            failures.append("runtime directories left: %r" % leftover)
    for f in failures:
        print("FAIL " + f)
    print("README: %d command blocks run, %d skipped, %d failed" % (ran, skipped, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
