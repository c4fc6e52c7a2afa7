# TCP with asyncio over 127.0.0.1: start_server and open_connection on the epoll selector, half-close, an echo of 60 bytes.
import asyncio
async def handle(r, w):
    data = await r.read(100000)
    w.write(b"echo:" + data[:20] + b" n=%d" % len(data))
    await w.drain(); w.close()
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(b"hello " * 10); await w.drain(); w.write_eof()
    print((await r.read()).decode())
    w.close(); srv.close(); await srv.wait_closed()
    import selectors; print(type(selectors.DefaultSelector()).__name__)
asyncio.run(main())
