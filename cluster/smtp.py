"""The cluster's mail server: `python -m cluster.smtp ADDRESS PORT FOLDER`.

It takes every message it is sent and keeps it as FOLDER/<n>.eml, with the sending host's address
in an X-Cluster-Peer line first, so a test can count what was sent and from where. While a file
named HOLD is in FOLDER, a new connection is greeted only once HOLD is gone, and FOLDER gets a
`held-<address>` file meanwhile: a send is caught in the middle, as when a mail server is slow,
and the worker making it can be killed there.
"""

import itertools
import socketserver
import sys
import threading
import time
from pathlib import Path

_numbers = itertools.count(1)
_lock = threading.Lock()


class Session(socketserver.StreamRequestHandler):
    folder: Path

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        peer = self.client_address[0]
        hold = self.folder / "HOLD"
        if hold.exists():
            (self.folder / f"held-{peer}").touch()
            while hold.exists():
                time.sleep(0.05)
        self.reply("220 cluster mail ready")
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip().split(" ")[0].upper()
            if verb == "DATA":
                self.reply("354 end with a line holding only a dot")
                self.keep(peer, self.message())
                self.reply("250 kept")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            elif verb == "EHLO":
                self.reply("250 cluster")
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                self.reply("250 ok")

    def message(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)

    def keep(self, peer: str, message: bytes) -> None:
        with _lock:
            path = self.folder / f"{next(_numbers)}.eml"
        draft = path.with_suffix(".part")
        draft.write_bytes(f"X-Cluster-Peer: {peer}\r\n".encode() + message)
        draft.rename(path)  # whole or not at all, for a reader counting messages


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(address: str, port: str, folder: str) -> None:
    Session.folder = Path(folder)
    with Server((address, int(port)), Session) as server:
        server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:4])
