# HTTP over TCP on 127.0.0.1: http.server in a thread serves a handler's response to urllib (GET with a query, POST with a body, a 404), then shuts down.
import http.server, threading, urllib.request, urllib.error

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/hello"):
            body = ("hello " + self.path.split("?", 1)[-1]).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        else:
            self.send_error(404)
    def do_POST(self):
        n = int(self.headers["Content-Length"]); data = self.rfile.read(n)
        body = b"got %d bytes" % len(data)
        self.send_response(201); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
t = threading.Thread(target=srv.serve_forever); t.start()
base = "http://127.0.0.1:%d" % srv.server_address[1]
r = urllib.request.urlopen(base + "/hello?world"); print(r.status, r.read().decode())
r = urllib.request.urlopen(urllib.request.Request(base + "/up", data=b"z" * 100000)); print(r.status, r.read().decode())
try:
    urllib.request.urlopen(base + "/missing")
except urllib.error.HTTPError as e:
    print("error", e.code)
srv.shutdown(); t.join(); srv.server_close()
print("done")
