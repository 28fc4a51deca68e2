# tests/lib-port.sh: free_port, a free TCP port on 127.0.0.1 for a server a
# test starts later; sourced by tests/lib.sh and tests/lib-pg.sh.
#
# bind(port 0) would hand out a port from the kernel's ephemeral range
# (net.ipv4.ip_local_port_range), the same range every outgoing connection
# takes its source port from: under load (wrk, curl loops, agents) one of
# them could take the port between this call and the server's bind, seconds
# later (seen: "Address already in use" after a 30 s image build). So the
# port is drawn at random below that range, where the kernel never puts a
# connection on its own, and checked free now.
free_port() {
	python3 - <<-\PY
	import random, socket
	lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
	ports = range(10000, lo) if lo > 12000 else range(0)
	for p in random.sample(ports, min(300, len(ports))):
	    s = socket.socket()
	    try:
	        s.bind(("127.0.0.1", p))
	    except OSError:
	        continue
	    finally:
	        s.close()
	    print(p)
	    break
	else:
	    s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
	PY
}
