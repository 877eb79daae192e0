"""A TCP relay on 127.0.0.1 between a client (the sink) and an HTTP/1.1
server (RGW) that fails chosen requests for real: the bytes go through
untouched except where a rule says otherwise.

    p = FaultProxy(rgw.port).start()     # p.endpoint: "http://127.0.0.1:N"
    p.fail("POST", r"/vsink-cluster/nodes/a/videos/k\\?uploadId=", "refuse")
    ...
    p.clear()

A rule matches a request line (method, and a regex searched in its
target). Its action:
- "refuse": the connection is reset before the request reaches the
  server: nothing of it happens there;
- "lose_answer": the request reaches the server whole and is carried out
  there, then the connection is reset instead of the answer being relayed
  (the client cannot tell whether it happened);
- "lose_answer_down": the same, and the relay goes down (below) before
  the connection is reset: the cluster went away right after the write;
- "hold": the request never reaches the server and the connection stays
  open, unanswered: the client waits (until it gives up, or is killed).
slow(seconds) holds every request that long before passing it on, as a
cluster that answers slowly, until slow(0).
down(True) resets every open connection and every new one, as a cluster
that went away (connections refused at once) until down(False).
hang(True) takes new connections and never answers them, as a cluster
that stopped responding, until hang(False) resets them.

Request lines are found by scanning the client's bytes, which holds for a
client that does not pipeline (libcurl does not) and bodies that do not
carry an HTTP request line (the tests' bodies are hash patterns). A
"100 Continue" answer is relayed: the answer lost is the final one."""
import re
import socket
import struct
import threading
import time

REQ_LINE = re.compile(rb"(GET|PUT|POST|HEAD|DELETE) (\S+) HTTP/1\.1\r\n")


def _reset(sock):
    # RST, not FIN: the client sees the connection die, not a clean end
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:  # wakes a thread blocked in recv on it, which close alone does not
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class _Conn:
    def __init__(self, proxy, client):
        self.proxy = proxy
        self.client = client
        self.upstream = None
        self.lose = False       # the answer to the last request goes
        self.dead = False
        self.lock = threading.Lock()

    def kill(self):
        with self.lock:
            if self.dead:
                return
            self.dead = True
        _reset(self.client)
        if self.upstream:
            _reset(self.upstream)

    def run(self):
        try:
            self.upstream = socket.create_connection(
                ("127.0.0.1", self.proxy.upstream_port), timeout=10)
            self.upstream.settimeout(None)
        except OSError:
            self.kill()
            return
        threading.Thread(target=self._answers, daemon=True).start()
        tail = b""
        while not self.dead:
            try:
                data = self.client.recv(65536)
            except OSError:
                break
            if not data:
                break
            scan = tail + data
            new_request = False
            for m in REQ_LINE.finditer(scan):
                if m.end() <= len(tail):
                    continue  # seen in the previous chunk
                new_request = True
                action = self.proxy._match(m.group(1).decode(),
                                           m.group(2).decode(errors="replace"))
                if action == "refuse":
                    self.kill()
                    return
                if action == "hold":
                    return  # not passed on, not answered, left open
                if action in ("lose_answer", "lose_answer_down"):
                    self.lose = action
            tail = scan[-512:]
            if self.proxy.delay and new_request:
                time.sleep(self.proxy.delay)
            try:
                self.upstream.sendall(data)
            except OSError:
                break
        self.kill()

    def _answers(self):
        while not self.dead:
            try:
                data = self.upstream.recv(65536)
            except OSError:
                break
            if not data:
                break
            if self.lose and not data.startswith(b"HTTP/1.1 100"):
                if self.lose == "lose_answer_down":
                    self.proxy.down(True)
                break
            try:
                self.client.sendall(data)
            except OSError:
                break
        self.kill()


class FaultProxy:
    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.rules = []
        self.hits = []          # (method, target, action) of each match
        self.conns = set()
        self.is_down = False
        self.is_hung = False
        self.held = []
        self.delay = 0
        self.lock = threading.Lock()
        self.sock = None
        self.port = None
        self.endpoint = None

    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.endpoint = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.hang(False)
        self.down(True)

    def fail(self, method, target_re, action):
        assert action in ("refuse", "lose_answer", "lose_answer_down",
                          "hold")
        with self.lock:
            self.rules.append((method, re.compile(target_re), action))

    def clear(self):
        with self.lock:
            self.rules = []

    def hits_of(self, action=None):
        with self.lock:
            return [h for h in self.hits if action in (None, h[2])]

    def down(self, is_down=True):
        with self.lock:
            self.is_down = is_down
            conns = list(self.conns) if is_down else []
        for c in conns:
            c.kill()

    def slow(self, seconds):
        self.delay = seconds

    def hang(self, is_hung=True):
        with self.lock:
            self.is_hung = is_hung
            held, self.held = (self.held, []) if not is_hung else ([], [])
        for sock in held:
            _reset(sock)

    def _match(self, method, target):
        with self.lock:
            for m, rx, action in self.rules:
                if m == method and rx.search(target):
                    self.hits.append((method, target, action))
                    return action
        return None

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                down, hung = self.is_down, self.is_hung
                if hung and not down:
                    self.held.append(client)
            if down:
                _reset(client)
                continue
            if hung:
                continue
            c = _Conn(self, client)
            with self.lock:
                self.conns.add(c)
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _serve(self, c):
        try:
            c.run()
        finally:
            with self.lock:
                self.conns.discard(c)
