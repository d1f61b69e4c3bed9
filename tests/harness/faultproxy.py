#!/usr/bin/env python3
"""faultproxy.py - a TCP proxy that injects link faults, for tests (issue 19).

    faultproxy.py --to HOST:PORT --ready FILE [--listen HOST:PORT]

Listens (default 127.0.0.1:0, a free port) and relays every connection to --to. When it
listens it writes "PORT CONTROL_PORT" to FILE. Commands, one line each on the control port
(answer "ok ..." or "error ..."):

    cut             close every relayed connection now (both sides see a reset/EOF)
    stall           stop relaying bytes in both directions; sockets stay open
    blackhole       the connections open now stop relaying for good (sockets stay open;
                    a lost NAT entry); connections made later relay normally
    unstall         relay again (what was held back is sent), blackholed ones too
    slow N          relay at most N bytes per second per direction (0 = unlimited)
    truncate        the next chunk from the server is relayed half-way, then the
                    connection is closed (a packet cut mid-way)
    refuse on|off   close new connections right after accepting them
    stats           "ok conns=N open=N up=BYTES down=BYTES cuts=N"

Only the standard library; one thread per direction of each connection.
"""
import argparse
import socket
import threading
import time

lock = threading.Lock()
pairs = []  # [client, server]
held = set()  # id() of blackholed pairs
state = {"stall": False, "slow": 0, "truncate": False, "refuse": False}
stats = {"conns": 0, "up": 0, "down": 0, "cuts": 0}


def close_pair(pair):
    for s in pair:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            s.close()
        except OSError:
            pass


def pump(src, dst, pair, key):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            while (state["stall"] or id(pair) in held) and pair in pairs:
                time.sleep(0.02)
            if pair not in pairs:
                break
            if key == "down" and state["truncate"]:
                state["truncate"] = False
                dst.sendall(data[: max(1, len(data) // 2)])
                break
            rate = state["slow"]
            if rate:
                for i in range(0, len(data), 4096):
                    piece = data[i:i + 4096]
                    dst.sendall(piece)
                    time.sleep(len(piece) / rate)
            else:
                dst.sendall(data)
            with lock:
                stats[key] += len(data)
    except OSError:
        pass
    with lock:
        if pair in pairs:
            pairs.remove(pair)
        held.discard(id(pair))
    close_pair(pair)


def serve(listener, to):
    while True:
        client, _ = listener.accept()
        if state["refuse"]:
            close_pair([client])
            continue
        try:
            server = socket.create_connection(to, timeout=10)
            server.settimeout(None)
        except OSError:
            close_pair([client])
            continue
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pair = [client, server]
        with lock:
            pairs.append(pair)
            stats["conns"] += 1
        threading.Thread(target=pump, args=(client, server, pair, "up"), daemon=True).start()
        threading.Thread(target=pump, args=(server, client, pair, "down"), daemon=True).start()


def command(line):
    words = line.split()
    if not words:
        return "error empty command"
    cmd = words[0]
    if cmd == "cut":
        with lock:
            victims = list(pairs)
            pairs.clear()
            stats["cuts"] += 1
            held.clear()
        for p in victims:
            close_pair(p)
        return "ok cut %d" % len(victims)
    if cmd == "stall":
        state["stall"] = True
        return "ok"
    if cmd == "blackhole":
        with lock:
            for p in pairs:
                held.add(id(p))
            return "ok blackhole %d" % len(pairs)
    if cmd == "unstall":
        state["stall"] = False
        with lock:
            held.clear()
        return "ok"
    if cmd == "slow" and len(words) == 2 and words[1].isdigit():
        state["slow"] = int(words[1])
        return "ok"
    if cmd == "truncate":
        state["truncate"] = True
        return "ok"
    if cmd == "refuse" and len(words) == 2 and words[1] in ("on", "off"):
        state["refuse"] = words[1] == "on"
        return "ok"
    if cmd == "stats":
        with lock:
            return "ok conns=%d open=%d up=%d down=%d cuts=%d" % (
                stats["conns"], len(pairs), stats["up"], stats["down"], stats["cuts"])
    return "error unknown command: " + line.strip()


def control(ctl):
    while True:
        conn, _ = ctl.accept()
        with conn, conn.makefile("rw") as f:
            for line in f:
                f.write(command(line) + "\n")
                f.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", required=True)
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--ready", required=True)
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    lhost, lport = a.listen.rsplit(":", 1)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((lhost, int(lport)))
    listener.listen(128)
    ctl = socket.socket()
    ctl.bind(("127.0.0.1", 0))
    ctl.listen(8)
    threading.Thread(target=control, args=(ctl,), daemon=True).start()
    with open(a.ready + ".tmp", "w") as f:
        f.write("%d %d\n" % (listener.getsockname()[1], ctl.getsockname()[1]))
    import os
    os.rename(a.ready + ".tmp", a.ready)
    serve(listener, (host, int(port)))


if __name__ == "__main__":
    main()
