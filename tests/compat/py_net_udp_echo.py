# UDP with the socket module over 127.0.0.1: a threaded echo server (sender addresses checked), settimeout raising socket.timeout on an empty socket, BlockingIOError when non-blocking, and socketserver.UDPServer in a thread.
import errno, socket, socketserver, threading

srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("127.0.0.1", 0))
addr = srv.getsockname()
print("type is SOCK_DGRAM:", srv.type == socket.SOCK_DGRAM, "port nonzero:", addr[1] != 0)

def echo():
    while True:
        data, peer = srv.recvfrom(4096)
        if data == b"quit":
            srv.sendto(b"bye", peer)
            return
        srv.sendto(data[::-1], peer)

t = threading.Thread(target=echo, daemon=True)
t.start()
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(5)
good = 0
for i in range(20):
    msg = b"message %d " % i + b"z" * (i * 50)
    c.sendto(msg, addr)
    data, peer = c.recvfrom(4096)
    good += data == msg[::-1] and peer == addr
print("echoed from the server:", good)
print("first reply:", c.sendto(b"abc", addr), c.recvfrom(100)[0])
c.sendto(b"quit", addr)
print("last reply:", c.recv(100))
t.join()

# Nothing is queued: a short timeout expires, a non-blocking recv would block.
c.settimeout(0.05)
try:
    c.recvfrom(100)
    print("got something?")
except socket.timeout as e:
    print("timeout:", type(e) is socket.timeout, e)
c.setblocking(False)
try:
    c.recv(100)
except BlockingIOError as e:
    print("non-blocking:", e.errno == errno.EAGAIN)
print("gettimeout:", c.gettimeout())
c.close()
srv.close()

class Upper(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data.upper() + b" (%d bytes)" % len(data), self.client_address)

with socketserver.UDPServer(("127.0.0.1", 0), Upper) as server:
    st = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    st.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
        c.settimeout(5)
        c.connect(server.server_address)
        print("connected peer is the server:", c.getpeername() == server.server_address)
        for word in [b"hello", b"udp server", b""]:
            c.send(word)
            print("socketserver:", c.recv(100))
    server.shutdown()
    st.join()
print("done")
