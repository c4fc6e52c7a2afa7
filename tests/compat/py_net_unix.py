# AF_UNIX from Python: socket.socketpair send/recv and half-close, a socketserver.UnixStreamServer in a thread with a client, asyncio start_unix_server and open_unix_connection echo.
import asyncio, os, shutil, socket, socketserver, stat, tempfile, threading

a, b = socket.socketpair()
print("socketpair:", a.family == socket.AF_UNIX, a.type == socket.SOCK_STREAM)
a.sendall(b"ping"); print("b got", b.recv(100))
b.sendall(b"pong" * 3); print("a got", a.recv(100))
def bulk():
    a.sendall(b"x" * 300000); a.shutdown(socket.SHUT_WR)
t = threading.Thread(target=bulk); t.start()
n = 0
while chunk := b.recv(65536): n += len(chunk)
t.join(); print("b counted", n, "then end of file")
b.sendall(b"still open"); print("a got", a.recv(100))
a.close(); print("b after close:", b.recv(10))
b.close()
d, dg = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
d.send(b"one"); d.send(b"two!"); d.send(b"three")
print("datagrams:", dg.recv(100), dg.recv(2), dg.recv(100))
d.close(); dg.close()

class Upper(socketserver.StreamRequestHandler):
    def handle(self):
        n = 0
        for line in self.rfile:
            self.wfile.write(line.upper()); n += 1
        self.wfile.write(b"lines %d\n" % n)

async def handle(r, w):
    data = await r.read()
    w.write(b"echo:" + data[:10] + b" n=%d" % len(data))
    await w.drain(); w.close()

async def aio(path):
    srv = await asyncio.start_unix_server(handle, path)
    print("asyncio server socket exists:", stat.S_ISSOCK(os.stat(path).st_mode))
    r, w = await asyncio.open_unix_connection(path)
    w.write(b"hello unix " * 1000); await w.drain(); w.write_eof()
    print((await r.read()).decode())
    w.close(); await w.wait_closed()
    srv.close(); await srv.wait_closed()

tmp = tempfile.mkdtemp(prefix="wisp-compat-py_net_unix-", dir="/tmp")
try:
    path = os.path.join(tmp, "srv.sock")
    srv = socketserver.UnixStreamServer(path, Upper)
    t = threading.Thread(target=srv.serve_forever); t.start()
    print("server socket:", stat.S_ISSOCK(os.stat(path).st_mode), os.path.basename(srv.server_address))
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    print("client peer:", os.path.basename(c.getpeername()), "client name:", repr(c.getsockname()))
    f = c.makefile("rwb")
    f.write(b"hello\nunix sockets\n"); f.flush()
    print(f.readline(), f.readline())
    c.sendall(b"".join(b"line %d\n" % i for i in range(100))); c.shutdown(socket.SHUT_WR)
    rest = f.read().splitlines()
    print(len(rest), rest[0], rest[-2], rest[-1])
    f.close(); c.close()
    srv.shutdown(); t.join(); srv.server_close()
    try:
        socket.socket(socket.AF_UNIX).connect(os.path.join(tmp, "missing"))
    except OSError as e:
        print("connect to a missing path:", type(e).__name__, e.errno == 2)
    print("files:", sorted(os.listdir(tmp)))
    asyncio.run(aio(os.path.join(tmp, "aio.sock")))
finally:
    shutil.rmtree(tmp)
print("removed:", not os.path.exists(tmp))
