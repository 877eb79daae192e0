"""HTTP on a bare socket, for the tests that must send what no client
library would (two Content-Length headers, a header trickled byte by byte)
and see exactly what the sink does with the connection afterwards."""
import re
import socket
import time
import urllib.parse


def connect(sink, src=None, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((sink.host, sink.port))
    return s


def target(url):
    """The request target (path and query) of a full URL."""
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


def read_response(s, head_only=False):
    """(status, {lower-case name: value}, body) of one response; the body
    is read by its Content-Length. None when the peer closed first."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        try:
            got = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            return None
        if not got:
            return None
        buf += got
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    n = 0 if head_only else int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        got = s.recv(65536)
        if not got:
            break
        rest += got
    return status, hdrs, rest[:n]


def closed_by_peer(s, wait=5.0):
    """True when the server closes the connection within wait seconds."""
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def metrics(sink):
    """/metrics as {"name{labels}": value}."""
    s = connect(sink)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    r = read_response(s)
    s.close()
    out = {}
    for line in r[2].decode().splitlines():
        m = re.match(r"^([a-z_]+(?:\{[^}]*\})?) (\S+)$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def wait_for(pred, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()
