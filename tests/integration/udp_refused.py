# udp_refused.py ADDR PORT: a connected UDP socket sends and reads; prints
# refused (an ICMP port unreachable reached the socket), timeout or data.
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((addr, port))
s.send(b"anyone?")
try:
    s.recv(100)
    print("data")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
