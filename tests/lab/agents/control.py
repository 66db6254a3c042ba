"""The agents' control channel: a Unix stream socket speaking JSON lines
(request `{"cmd": NAME, ...}`, answer `{"ok": true, ...}` or
`{"ok": false, "error": "..."}`), plus a client usable from Python or the shell:

    /usr/bin/python3 control.py RUN/ha.sock bindings
    /usr/bin/python3 control.py RUN/fa.sock force_code '{"code": 66, "count": 2}'
"""

import json
import os
import socket
import sys


class ControlServer:
    """Accepts clients on a Unix socket inside a netio.Loop; handler(dict)
    returns the answer dict (ok=True added unless present)."""

    def __init__(self, loop, path, handler, log=None):
        self.loop = loop
        self.path = path
        self.handler = handler
        self.log = log
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o600)
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.clients = {}
        loop.add_reader(self.sock, self._accept)

    def _accept(self):
        try:
            c, _ = self.sock.accept()
        except BlockingIOError:
            return
        c.setblocking(False)
        self.clients[c.fileno()] = (c, bytearray())
        self.loop.add_reader(c, lambda fd=c.fileno(): self._readable(fd))

    def _close(self, fd):
        c, _ = self.clients.pop(fd, (None, None))
        if c is not None:
            self.loop.remove_reader(fd)
            c.close()

    def _readable(self, fd):
        c, buf = self.clients[fd]
        try:
            data = c.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close(fd)
            return
        buf += data
        while b"\n" in buf:
            line, _, rest = bytes(buf).partition(b"\n")
            buf[:] = rest
            if line.strip():
                self._answer(c, fd, line)

    def _answer(self, c, fd, line):
        try:
            req = json.loads(line)
            if not isinstance(req, dict) or not isinstance(req.get("cmd"), str):
                raise ValueError("expected an object with a string \"cmd\"")
            ans = self.handler(req)
            ans = dict(ans or {})
            ans.setdefault("ok", True)
        except Exception as e:  # every failure is an answer, never a crash
            ans = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        out = (json.dumps(ans, default=str) + "\n").encode()
        try:
            c.setblocking(True)
            c.settimeout(5)
            c.sendall(out)
            c.setblocking(False)
        except OSError:
            self._close(fd)

    def close(self):
        for fd in list(self.clients):
            self._close(fd)
        self.loop.remove_reader(self.sock)
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class ControlClient:
    """Blocking client: call({"cmd": ...}) -> answer dict (raises on ok=false
    when check=True)."""

    def __init__(self, path, timeout=5.0):
        self.path = path
        self.timeout = timeout
        self.sock = None
        self.buf = b""

    def _connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s
        self.buf = b""

    def call(self, req, check=False):
        if isinstance(req, str):
            req = {"cmd": req}
        for attempt in (0, 1):
            try:
                if self.sock is None:
                    self._connect()
                self.sock.sendall((json.dumps(req) + "\n").encode())
                while b"\n" not in self.buf:
                    d = self.sock.recv(65536)
                    if not d:
                        raise ConnectionError("control socket closed")
                    self.buf += d
                line, _, self.buf = self.buf.partition(b"\n")
                ans = json.loads(line)
                break
            except (ConnectionError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
        if check and not ans.get("ok"):
            raise RuntimeError("%s: %s" % (req.get("cmd"), ans.get("error")))
        return ans

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    req = {"cmd": argv[2]}
    if len(argv) > 3:
        req.update(json.loads(argv[3]))
    ans = ControlClient(argv[1]).call(req)
    print(json.dumps(ans, indent=2, sort_keys=True))
    return 0 if ans.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
