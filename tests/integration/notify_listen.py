#!/usr/bin/env python3
"""Stands in for systemd's notification socket (Type=notify).

    notify_listen.py SOCKET_PATH CONTROL_SOCKET TIMEOUT_S OUT_FILE

Binds a datagram socket at SOCKET_PATH and writes each message it receives to
OUT_FILE, one line per message, newlines inside a message shown as '|'. When
a message has READY=1, it also records whether CONTROL_SOCKET accepted a
connection at that moment ("accepting=yes" or "accepting=no"). Exits after a
message with STOPPING=1, or after TIMEOUT_S seconds.
"""
import os
import socket
import sys
import time

path, control, timeout, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
deadline = time.monotonic() + timeout
with open(out, "w", buffering=1) as f:
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            msg = s.recv(4096).decode(errors="replace")
        except socket.timeout:
            break
        f.write(msg.strip("\n").replace("\n", "|") + "\n")
        fields = msg.split("\n")
        if "READY=1" in fields:
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                c.connect(control)
                f.write("accepting=yes\n")
            except OSError as e:
                f.write(f"accepting=no ({e})\n")
            finally:
                c.close()
        if "STOPPING=1" in fields:
            break
os.unlink(path)
