"""Headless Chromium (Debian's /usr/bin/chromium) for the HTML report tests:
the DOM after the page's scripts ran, the console messages it logged, a
screenshot. Each run gets a fresh profile directory and is killed if it
outlives its timeout. No network: the pages are local files."""
import html.parser
import os
import re
import shutil
import subprocess
import tempfile

CHROMIUM = os.environ.get("VSINK_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-extensions",
         "--hide-scrollbars", "--mute-audio"]
# "[...:INFO:CONSOLE:12] "Uncaught Error: x", source: file:///p.html (12)"
# (older builds write CONSOLE(12))
CONSOLE = re.compile(r":CONSOLE[(:]\d+\)?\]\s*\"(.*)\", source: (.*)$")


def available():
    return os.access(CHROMIUM, os.X_OK)


def run(url, *extra, timeout=120):
    """(returncode, stdout text, console lines) of one headless run."""
    prof = tempfile.mkdtemp(prefix="vsink-chromium-")
    try:
        p = subprocess.run([CHROMIUM] + FLAGS + [
            "--user-data-dir=" + prof, "--enable-logging=stderr", "--v=0"] +
            list(extra) + [url], capture_output=True, timeout=timeout)
    finally:
        shutil.rmtree(prof, True)
    console = []
    for text in p.stderr.decode(errors="replace").splitlines():
        m = CONSOLE.search(text)
        if m:
            console.append("%s (%s)" % (m.group(1), m.group(2)))
    return p.returncode, p.stdout.decode(errors="replace"), console


def dump_dom(path, fragment="", timeout=120):
    url = "file://" + os.path.abspath(path) + fragment
    return run(url, "--dump-dom", "--virtual-time-budget=3000",
               timeout=timeout)


def screenshot(path, png, width=1360, height=1700, timeout=120):
    url = "file://" + os.path.abspath(path)
    rc, _, console = run(url, "--screenshot=" + os.path.abspath(png),
                         "--window-size=%d,%d" % (width, height),
                         timeout=timeout)
    return rc, console


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.text = [], []

    def all_text(self):
        out = list(self.text)
        for c in self.children:
            out.append(c.all_text())
        return "".join(out)

    def find_all(self, tag=None, **attrs):
        found = []
        for c in self.children:
            if (tag is None or c.tag == tag) and all(
                    c.attrs.get(k.replace("_", "-")) == v
                    for k, v in attrs.items()):
                found.append(c)
            found.extend(c.find_all(tag, **attrs))
        return found

    def by_id(self, ident):
        hits = self.find_all(id=ident)
        return hits[0] if hits else None


VOID = {"meta", "link", "br", "img", "input", "hr", "source", "col", "wbr",
        "area", "base", "embed", "param", "track"}


class _Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text.append(data)
        # keep order: text lands as a pseudo child so all_text() reads in
        # document order
        t = Node("#text", {}, self.cur)
        t.text = [data]
        self.cur.text.pop()
        self.cur.children.append(t)


def parse(text):
    p = _Parser()
    p.feed(text)
    p.close()
    return p.root
