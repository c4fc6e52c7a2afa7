# UDP with asyncio over 127.0.0.1: a create_datagram_endpoint echo server and a connected client endpoint (names and sender addresses checked), 30 echoes, and loop.sock_sendto/sock_recvfrom on a non-blocking socket (including a zero-length datagram).
import asyncio, socket

class Echo(asyncio.DatagramProtocol):
    def __init__(self):
        self.senders = set()
    def connection_made(self, transport):
        self.transport = transport
    def datagram_received(self, data, addr):
        self.senders.add(addr)
        self.transport.sendto(b"echo " + data, addr)

class Client(asyncio.DatagramProtocol):
    def __init__(self):
        self.queue = asyncio.Queue()
    def datagram_received(self, data, addr):
        self.queue.put_nowait((data, addr))
    def error_received(self, exc):
        print("error received:", exc)

async def main():
    loop = asyncio.get_running_loop()
    st, server = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
    saddr = st.get_extra_info("sockname")
    sock = st.get_extra_info("socket")
    print("server: port nonzero", saddr[1] != 0, "SOCK_DGRAM", sock.type == socket.SOCK_DGRAM, "peername", st.get_extra_info("peername"))
    ct, client = await loop.create_datagram_endpoint(Client, remote_addr=saddr)
    print("client peername is the server:", ct.get_extra_info("peername") == saddr)
    caddr = ct.get_extra_info("sockname")
    print("client sockname:", caddr[0], caddr[1] != 0)
    good = size = 0
    for i in range(30):
        msg = b"dgram %d " % i + b"." * (i * 7)
        ct.sendto(msg)
        data, addr = await asyncio.wait_for(client.queue.get(), 5)
        good += data == b"echo " + msg and addr == saddr
        size += len(data)
    print("echoes:", good, "bytes:", size)
    print("server saw one sender, the client:", server.senders == {caddr})
    ct.close()

    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raw.setblocking(False)
    raw.bind(("127.0.0.1", 0))
    print("sock_sendto:", await loop.sock_sendto(raw, b"raw one", saddr))
    data, addr = await asyncio.wait_for(loop.sock_recvfrom(raw, 100), 5)
    print("sock_recvfrom:", data, addr == saddr)
    # asyncio's transport.sendto skips empty data (Python 3.11), a plain sendto does not.
    print("sock_sendto empty:", await loop.sock_sendto(raw, b"", saddr))
    print("echo of empty:", await asyncio.wait_for(loop.sock_recvfrom(raw, 100), 5) == (b"echo ", saddr))
    print("senders now:", len(server.senders), raw.getsockname() in server.senders)
    raw.close()
    st.close()
    await asyncio.sleep(0)
    print("closed:", st.is_closing(), ct.is_closing())

asyncio.run(main())
