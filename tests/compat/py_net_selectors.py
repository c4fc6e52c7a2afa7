# A single-threaded echo server on selectors.PollSelector with non-blocking sockets serves 5 clients at once; accept, partial reads and writes, and closes are all event-driven.
import selectors, socket

sel = selectors.PollSelector()
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(8); srv.setblocking(False)
sel.register(srv, selectors.EVENT_READ, "accept")
clients = []
for i in range(5):
    c = socket.socket(); c.setblocking(False)
    c.connect_ex(srv.getsockname()); clients.append(c)
pending = {c: (b"msg %d " % i) * 1000 for i, c in enumerate(clients)}
got = {c: b"" for c in clients}
for c in clients:
    sel.register(c, selectors.EVENT_WRITE | selectors.EVENT_READ, "client")
done = 0
while done < len(clients):
    for key, ev in sel.select(5):
        s = key.fileobj
        if key.data == "accept":
            conn, _ = s.accept(); conn.setblocking(False); sel.register(conn, selectors.EVENT_READ, "echo")
        elif key.data == "echo":
            data = s.recv(65536)
            if data:
                s.sendall(data)
            else:
                sel.unregister(s); s.close()
        else:
            if ev & selectors.EVENT_WRITE and pending[s]:
                n = s.send(pending[s]); pending[s] = pending[s][n:]
                if not pending[s]:
                    s.shutdown(socket.SHUT_WR); sel.modify(s, selectors.EVENT_READ, "client")
            if ev & selectors.EVENT_READ:
                data = s.recv(65536)
                if data:
                    got[s] += data
                else:
                    sel.unregister(s); s.close(); done += 1
print([len(got[c]) for c in clients])
print(all(got[c] == (b"msg %d " % i) * 1000 for i, c in enumerate(clients)))
