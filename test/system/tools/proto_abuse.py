#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Speak (and break) berth's control protocol on its UNIX socket, for the system tests.

Usage: proto_abuse.py --sock PATH [--dump FILE] [--trace FILE] [--wait S] SCENARIO [ARGS]

Scenarios:
  connect                  connect only; prints "connected" or "connect-error ERRNO-NAME"
  call OP                  hello, one request OP, read until its reply or error
  random [--bytes N] [--seed S]
                           N random bytes (no hello), newline-terminated
  not-object               the line '[1,2,3]' (valid JSON, not an object)
  missing-fields           hello, then a request without "op"
  too-large [--mib N]      hello, then N MiB (default 100) without a newline
  mid-close                hello, then half a request, then close
  before-hello             a request before any hello
  unknown-op [--op NAME]   hello, request NAME (default "verison"), then "ping" on the same
                           connection
  mismatch [--proto N]     hello with protocol N (default 999)
  idle --count N --ready FILE --stop FILE [--max-seconds S]
                           hold N connections (every second one after a completed hello) until
                           FILE --stop exists; writes "ready ..." to --ready when all are up

Output, one line each: "recv <message as canonical JSON>" (sorted keys, no spaces),
"recv-invalid <repr>" for a line that is not JSON, then how the connection ended: "closed"
(EOF), "reset" (ECONNRESET) or "open" (still open when we stopped waiting). Other lines start
with a word saying what they are ("sent", "connect-error", "held").
--dump FILE appends every received line to FILE as it was on the wire; --trace FILE appends
the well-formed messages sent and every line received, in order (like BERTH_PROTO_TRACE).
Exit status: 0 done, 1 a step failed (message on stderr), 3 cannot connect.
Every wait is bounded; the whole run is killed by SIGALRM after --max-seconds (default 120).
"""
import argparse
import errno
import json
import os
import random
import resource
import select
import signal
import socket
import sys
import time

MIB = 1 << 20


class Conn:
    def __init__(self, path, args):
        self.args = args
        self.buf = b""
        self.state = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)

    def log_line(self, fname, line):
        if fname:
            with open(fname, "ab") as f:
                f.write(line.rstrip(b"\n") + b"\n")

    def send_raw(self, data):
        """Send bytes; returns the errno name that stopped us, or None."""
        try:
            self.sock.sendall(data)
        except BrokenPipeError:
            return "EPIPE"
        except ConnectionResetError:
            return "ECONNRESET"
        except socket.timeout:
            return "ETIMEDOUT"
        return None

    def send(self, obj):
        line = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        self.log_line(self.args.trace, line)
        return self.send_raw(line)

    def hello(self, proto=1):
        return self.send({"type": "hello", "protocol": proto, "client": "proto_abuse.py"})

    def request(self, rid, op, args=None):
        msg = {"type": "request", "id": rid, "op": op}
        if args is not None:
            msg["args"] = args
        return self.send(msg)

    def read_msg(self, timeout):
        """Next message (dict or ("invalid", bytes)); None when the connection ended or the
        timeout passed (self.state says which)."""
        deadline = time.monotonic() + timeout
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line, self.buf = self.buf[:nl], self.buf[nl + 1:]
                self.log_line(self.args.dump, line)
                self.log_line(self.args.trace, line)
                try:
                    msg = json.loads(line)
                except ValueError:
                    print("recv-invalid " + repr(line[:200]))
                    return ("invalid", line)
                print("recv " + json.dumps(msg, sort_keys=True, separators=(",", ":")))
                return msg
            left = deadline - time.monotonic()
            if left <= 0:
                self.state = "open"
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                self.state = "reset"
                return None
            if not data:
                if self.buf:
                    print("recv-partial " + repr(self.buf[:200]))
                self.state = "closed"
                return None
            self.buf += data
            if len(self.buf) > 16 * MIB:
                print("recv-overflow more than 16 MiB without a newline")
                self.state = "open"
                return None

    def drain(self, timeout):
        """Read and print everything until the connection ends or timeout seconds pass
        without it ending."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.state = "open"
                break
            if self.read_msg(left) is None:
                break
        print(self.state)

    def until(self, pred, timeout):
        """Read until a message satisfies pred; returns it, or None (prints the end state)."""
        deadline = time.monotonic() + timeout
        while True:
            m = self.read_msg(max(0.0, deadline - time.monotonic()))
            if m is None:
                print(self.state)
                return None
            if isinstance(m, dict) and pred(m):
                return m

    def close(self):
        self.sock.close()


def is_final(rid):
    return lambda m: m.get("type") in ("reply", "error") and m.get("id") == rid


def fail(msg):
    print("proto_abuse: " + msg, file=sys.stderr)
    return 1


def handshake(c, args):
    c.hello()
    m = c.until(lambda m: True, args.wait)
    if not m or m.get("type") != "hello":
        return False
    return True


def sc_connect(c, args):
    print("connected")
    return 0


def sc_call(c, args):
    if not handshake(c, args):
        return fail("no hello from the daemon")
    c.request(1, args.op)
    m = c.until(is_final(1), args.wait)
    if m is None:
        return fail(f"no reply to '{args.op}'")
    return 0


def sc_random(c, args):
    rnd = random.Random(args.seed)
    data = bytearray(rnd.getrandbits(8) for _ in range(args.bytes))
    # The first line must not be empty (an empty line may be ignored) and the data must end.
    if data[0] == 0x0A:
        data[0] = 0x00
    data += b"\n"
    print(f"sent {len(data)} random bytes (seed {args.seed})")
    err = c.send_raw(bytes(data))
    if err:
        print(f"sent-stopped {err}")
    c.drain(args.wait)
    return 0


def sc_not_object(c, args):
    c.send_raw(b"[1,2,3]\n")
    c.drain(args.wait)
    return 0


def sc_missing_fields(c, args):
    if not handshake(c, args):
        return fail("no hello from the daemon")
    c.send_raw(b'{"type":"request","id":7}\n')
    c.drain(args.wait)
    return 0


def sc_too_large(c, args):
    if not handshake(c, args):
        return fail("no hello from the daemon")
    c.sock.settimeout(args.wait)
    chunk = b"x" * MIB
    sent = 0
    stopped = None
    deadline = time.monotonic() + args.max_seconds / 2
    for _ in range(args.mib):
        stopped = c.send_raw(chunk)
        if stopped:
            break
        sent += len(chunk)
        if time.monotonic() > deadline:
            stopped = "deadline"
            break
    c.sock.settimeout(None)
    print(f"sent {sent} bytes without a newline" + (f" (stopped: {stopped})" if stopped else ""))
    c.drain(args.wait)
    return 0


def sc_mid_close(c, args):
    if not handshake(c, args):
        return fail("no hello from the daemon")
    c.send_raw(b'{"type":"request","id":1,"op":"ver')
    print("sent half a request, closing")
    return 0


def sc_before_hello(c, args):
    c.request(1, "version")
    m = c.until(lambda m: True, args.wait)
    if m is None:
        return fail("no answer to a request before hello")
    # Does the daemon keep the connection? Reported, not judged here.
    c.drain(0.5)
    return 0


def sc_unknown_op(c, args):
    if not handshake(c, args):
        return fail("no hello from the daemon")
    c.request(1, args.op)
    m = c.until(is_final(1), args.wait)
    if m is None:
        return fail(f"no answer to op '{args.op}'")
    if c.request(2, "ping"):
        print("closed")
        return 0
    m = c.until(is_final(2), args.wait)
    if m is not None:
        print("open")
    return 0


def sc_mismatch(c, args):
    c.hello(args.proto)
    c.drain(args.wait)
    return 0


def is_closed(s):
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def sc_idle(path, args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.count + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(want, soft)), hard))
    conns = []
    for i in range(args.count):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(args.wait)
        try:
            s.connect(path)
        except OSError as e:
            print(f"connect-failed {i} {errno.errorcode.get(e.errno, e.errno)}")
            for x in conns:
                x.close()
            return 1
        if i % 2 == 0:
            try:
                s.sendall(b'{"type":"hello","protocol":1,"client":"idle"}\n')
            except OSError as e:
                print(f"hello-send-failed {i} {e}")
        conns.append(s)
    hello_ok = 0
    for i in range(0, args.count, 2):
        s = conns[i]
        buf = b""
        deadline = time.monotonic() + args.wait
        while b"\n" not in buf and time.monotonic() < deadline:
            r, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            try:
                d = s.recv(4096)
            except OSError:
                break
            if not d:
                break
            buf += d
        try:
            if json.loads(buf.split(b"\n")[0]).get("type") == "hello":
                hello_ok += 1
        except ValueError:
            pass
    tmp = args.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"ready {len(conns)} hello_ok {hello_ok}\n")
    os.rename(tmp, args.ready)
    print(f"ready {len(conns)} hello_ok {hello_ok}", flush=True)
    deadline = time.monotonic() + args.max_seconds
    while not os.path.exists(args.stop) and time.monotonic() < deadline:
        time.sleep(0.05)
    still = sum(1 for s in conns if not is_closed(s))
    print(f"held {len(conns)} hello_ok {hello_ok} still_open {still}")
    for s in conns:
        s.close()
    return 0


SCENARIOS = {
    "connect": sc_connect,
    "call": sc_call,
    "random": sc_random,
    "not-object": sc_not_object,
    "missing-fields": sc_missing_fields,
    "too-large": sc_too_large,
    "mid-close": sc_mid_close,
    "before-hello": sc_before_hello,
    "unknown-op": sc_unknown_op,
    "mismatch": sc_mismatch,
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sock", required=True)
    p.add_argument("--dump")
    p.add_argument("--trace")
    p.add_argument("--wait", type=float, default=10.0, help="seconds to wait for an answer")
    p.add_argument("--max-seconds", type=int, default=120)
    sub = p.add_subparsers(dest="scenario", required=True)
    for name in SCENARIOS:
        sub.add_parser(name)
    sub.choices["call"].add_argument("op")
    sub.choices["random"].add_argument("--bytes", type=int, default=4096)
    sub.choices["random"].add_argument("--seed", type=int, default=None)
    sub.choices["too-large"].add_argument("--mib", type=int, default=100)
    sub.choices["unknown-op"].add_argument("--op", default="verison")
    sub.choices["mismatch"].add_argument("--proto", type=int, default=999)
    idle = sub.add_parser("idle")
    idle.add_argument("--count", type=int, required=True)
    idle.add_argument("--ready", required=True)
    idle.add_argument("--stop", required=True)
    args = p.parse_args()
    if args.scenario == "random" and args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 31)
    # A hard bound on the whole run, whatever the daemon does.
    signal.signal(signal.SIGALRM, lambda *_: os._exit(124))
    signal.alarm(args.max_seconds + 30)
    if args.scenario == "idle":
        return sc_idle(args.sock, args)
    try:
        c = Conn(args.sock, args)
    except OSError as e:
        print(f"connect-error {errno.errorcode.get(e.errno, e.errno)}")
        return 3
    try:
        return SCENARIOS[args.scenario](c, args)
    finally:
        c.close()


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    sys.exit(main())
