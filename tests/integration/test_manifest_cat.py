"""vsink manifest cat over a hand-built manifest directory: plain, gzip, a
segment left both plain and gzip by a crash, a .gz.tmp, a torn last line and
a truncated gzip stream. Checks stdout line for line and the stderr reports.
"""
import gzip
import os
import shutil
import subprocess
import sys
import tempfile

VSINK = os.environ["VSINK"]


def line(sec, tag):
    return ('{"v":1,"event":"stored","time":"2026-01-01T00:00:%02d.000Z",'
            '"node":"n","tag":"%s"}' % (sec, tag))


def run(*args, cwd=None):
    p = subprocess.run([VSINK, "manifest", *args], capture_output=True,
                       cwd=cwd, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def main():
    check(os.access(VSINK, os.X_OK), "$VSINK (%s) is not built" % VSINK)
    top = tempfile.mkdtemp(prefix="vsink-mcat-")
    try:
        d = os.path.join(top, "vsink-data", "manifest")
        os.makedirs(d)
        a = os.path.join(d, "20260101T000000000Z-a-1-0000000a.jsonl")
        torn_a = '{"v":1,"event":"stor'
        with open(a, "w") as f:
            f.write(line(0, "a1") + "\n" + line(2, "a3") + "\n" + torn_a)
        b = os.path.join(d, "20260101T000000500Z-b-1-0000000b.jsonl.gz")
        with gzip.open(b, "wt") as f:
            f.write(line(1, "b2") + "\n" + line(3, "b4") + "\n")
        c = os.path.join(d, "20260101T000000600Z-c-1-0000000c.jsonl")
        with open(c, "w") as f:
            f.write(line(4, "c5") + "\n")
        with gzip.open(c + ".gz", "wt") as f:
            f.write(line(4, "c5") + "\n")
        with open(os.path.join(d, "20260101T000000700Z-e-1-0000000e"
                               ".jsonl.gz.tmp"), "wb") as f:
            f.write(b"\x1f\x8bnot finished")
        # A gzip segment cut short: lines d6 and d7 whole, then the stream
        # stops 10 bytes into d8.
        dd = os.path.join(d, "20260101T000000800Z-d-1-0000000d.jsonl.gz")
        body = (line(6, "d6") + "\n" + line(7, "d7") + "\n" +
                line(8, "d8") + "\n")
        cut = len(line(6, "d6")) + len(line(7, "d7")) + 2 + 10
        z = gzip.compress(body.encode())
        # Find the shortest prefix of the compressed stream that inflates
        # past the cut, so the stream ends inside d8.
        for n in range(10, len(z)):
            dec = gzip.zlib.decompressobj(31).decompress(z[:n])
            if len(dec) >= cut and len(dec) < len(body):
                break
        else:
            check(False, "could not cut the gzip stream inside d8")
        with open(dd, "wb") as f:
            f.write(z[:n])
        partial = len(dec) - (cut - 10)

        rc, out, err = run("cat", d)
        check(rc == 0, "exit %d, stderr %r" % (rc, err))
        want = [line(0, "a1"), line(1, "b2"), line(2, "a3"), line(3, "b4"),
                line(4, "c5"), line(6, "d6"), line(7, "d7")]
        check(out.splitlines() == want, "stdout %r" % out)
        check(out.endswith("\n"), "stdout ends with a newline")
        want_err = [
            "vsink manifest: skipped torn line in %s at offset %d (%d bytes)"
            % (a, 2 * len(line(0, "a1")) + 2, len(torn_a)),
            "vsink manifest: skipped torn line in %s at offset %d (%d bytes)"
            % (dd, cut - 10, partial),
        ]
        check(sorted(err.splitlines()) == sorted(want_err),
              "stderr %r, wanted %r" % (err, want_err))

        # The default directory is ./vsink-data/manifest.
        rc, out2, _ = run("cat", cwd=top)
        check(rc == 0 and out2 == out, "default directory")

        # An empty directory: nothing, exit 0.
        empty = os.path.join(top, "empty")
        os.mkdir(empty)
        check(run("cat", empty) == (0, "", ""), "empty directory")

        # A directory that cannot be read: exit 3 and why.
        rc, out, err = run("cat", os.path.join(top, "missing"))
        check(rc == 3 and out == "", "missing directory exit %d" % rc)
        check(os.path.join(top, "missing") in err and
              "No such file or directory" in err, "message %r" % err)

        rc, out, err = run("--help")
        check(rc == 0 and
              "usage: vsink manifest cat [OPTIONS] [DIR|s3://" in out,
              "--help")
        rc, out, err = run("cat", "--help")
        check(rc == 0 and "usage: vsink manifest cat" in out, "cat --help")
        rc, out, err = run("tac")
        check(rc == 2 and "unknown subcommand 'tac'" in err, "bad subcommand")
        rc, out, err = run()
        check(rc == 2 and "missing subcommand" in err, "no subcommand")
        rc, out, err = run("cat", d, "extra")
        check(rc == 2 and "unexpected argument 'extra'" in err, "extra arg")
        print("ok")
    finally:
        shutil.rmtree(top)


main()
