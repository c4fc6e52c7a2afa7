# Line-oriented TCP with socket.makefile: a threaded socketserver answers lines, the client reads them with readline, sendall of 200 lines, and the server sees the client's end.
import socket, socketserver, threading

class Upper(socketserver.StreamRequestHandler):
    def handle(self):
        n = 0
        for line in self.rfile:
            self.wfile.write(line.upper())
            n += 1
        self.wfile.write(b"lines %d\n" % n)

srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Upper)
t = threading.Thread(target=srv.serve_forever); t.start()
c = socket.create_connection(srv.server_address)
f = c.makefile("rwb")
f.write(b"hello\n"); f.flush(); print(f.readline().decode().strip())
c.sendall(b"".join(b"line %d\n" % i for i in range(200)))
c.shutdown(socket.SHUT_WR)
rest = f.read().decode().splitlines()
print(len(rest), rest[0], rest[-2], rest[-1])
srv.shutdown(); t.join(); srv.server_close()
