#!/usr/bin/env python3
"""A minimal sluiced client: everything sluicectl does is a protocol command.

    python3 examples/sluice_client.py hello
    python3 examples/sluice_client.py add-drop '{"iface": "eth0", "proto": "icmp"}'
    python3 examples/sluice_client.py list
    python3 examples/sluice_client.py del '{"id": 1}'

The socket is $SLUICE_SOCKET or /run/sluice/sluiced.sock. See docs/protocol.md.
"""
import json
import os
import socket
import sys


class SluiceError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


class Sluice:
    def __init__(self, path=None, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path or os.environ.get("SLUICE_SOCKET", "/run/sluice/sluiced.sock"))
        self.reader = self.sock.makefile("rb")
        self.next_id = 1

    def call(self, cmd, **args):
        req = {"id": self.next_id, "cmd": cmd, "args": args}
        self.next_id += 1
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        reply = json.loads(self.reader.readline())
        if reply["id"] != req["id"]:
            raise RuntimeError("reply out of order")
        if not reply["ok"]:
            raise SluiceError(reply["error"]["code"], reply["error"]["message"])
        return reply["result"]


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) >= 2 else 2
    args = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    try:
        print(json.dumps(Sluice().call(sys.argv[1], **args), indent=2))
    except SluiceError as e:
        print(f"sluice_client: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"sluice_client: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
