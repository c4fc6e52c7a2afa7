# Blocking TCP over 127.0.0.1 in one process: a half-closed client, the server answers and closes; epoll reports the client readable; then a threaded server takes 1 MB.
import socket, select
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(5)
c = socket.socket(); c.connect(srv.getsockname())
s, _ = srv.accept()
c.sendall(b"hello " * 10); c.shutdown(socket.SHUT_WR)
d = s.recv(100000); print("server got", len(d))
s.sendall(b"x" * 30); s.close()
ep = select.epoll(); ep.register(c.fileno(), select.EPOLLIN)
print("epoll", ep.poll(5))
print("client got", len(c.recv(1000)))
import threading
def serve():
    conn, _ = srv.accept()
    total = 0
    while True:
        b = conn.recv(65536)
        if not b:
            break
        total += len(b)
    conn.sendall(b"%d" % total)
    conn.close()
t = threading.Thread(target=serve); t.start()
c2 = socket.create_connection(srv.getsockname())
c2.sendall(b"y" * 1000000); c2.shutdown(socket.SHUT_WR)
print("threaded server counted", c2.recv(100).decode())
t.join()
