#!/usr/bin/env python3
"""raw_client.py SOCKET [--shutdown] [--send TEXT]: sends TEXT (else standard
input) to sluiced's socket as it is (no framing added), optionally shuts the
sending side, and prints every
byte the daemon sends back until it closes. A refused or closed connection may
end in EPIPE or a reset: both count as the end. Every wait is bounded (5 s).
Also imported by tests for replies()."""
import json
import socket
import sys


def read_all(s):
    data = b''
    while True:
        try:
            chunk = s.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def replies(s):
    """Every reply line until the daemon closes, parsed."""
    return [json.loads(l) for l in read_all(s).splitlines() if l.strip()]


def main():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
    args = sys.argv[2:]
    payload = (args[args.index('--send') + 1].encode() if '--send' in args
               else sys.stdin.buffer.read())
    try:
        s.sendall(payload)
        if '--shutdown' in args:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    sys.stdout.write(read_all(s).decode())


if __name__ == '__main__':
    main()
