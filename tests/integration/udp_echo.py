# udp_echo.py ADDR PORT: a UDP echo server (IPv4 or IPv6, by the address).
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, port))
while True:
    d, a = s.recvfrom(65535)
    try:
        s.sendto(d, a)
    except OSError:
        pass
