"""The recording sink: TCP listeners and the Kubernetes API stub, run inside the sink's network namespace.

Started as ``python -m plugingate.probe.sink CONFIG`` in a namespace of its own whose only link is the
sandbox's; a local route for every address (``ip route add local 0.0.0.0/0 dev lo``) makes every
destination the plugin dials land here. Each connection is recorded as one JSON line: the address and
port it was sent to, the TLS SNI or HTTP Host and request line, and the first bytes. TLS is not
terminated (the sink has no certificate the plugin trusts): the ClientHello says where it meant to go.
The API stub is TLS with a CA the sandbox is given, as a pod's service-account mount gives it, and it
answers what RBAC would deny with 403 and what it would allow with an empty answer.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIRST_BYTES = 4096
READ_SECONDS = 1.5


@dataclass(frozen=True, slots=True)
class SinkConfig:
    """Where the sink listens and writes; handed over as a JSON file."""

    sink_ip: str
    api_ip: str
    api_port: int
    ports: tuple[int, ...]
    cert: str
    key: str
    token: str
    events: str
    ready: str

    def to_json(self) -> str:
        """The file the sink process reads."""
        return json.dumps({**{f: getattr(self, f) for f in self.__slots__}, "ports": list(self.ports)})

    @classmethod
    def from_json(cls, text: str) -> SinkConfig:
        """Read back what ``to_json`` wrote."""
        data = json.loads(text)
        data["ports"] = tuple(data["ports"])
        return cls(**data)


def server_name(hello: bytes) -> str | None:
    """The SNI host name of a TLS ClientHello record, or None when there is none or it is malformed."""
    try:
        if len(hello) < 44 or hello[0] != 0x16 or hello[5] != 0x01:
            return None
        pos = 9 + 2 + 32  # record header, handshake header, version, random
        pos += 1 + hello[pos]  # session id
        pos += 2 + int.from_bytes(hello[pos : pos + 2], "big")  # cipher suites
        pos += 1 + hello[pos]  # compression methods
        end = pos + 2 + int.from_bytes(hello[pos : pos + 2], "big")
        pos += 2
        while pos + 4 <= min(end, len(hello)):
            kind = int.from_bytes(hello[pos : pos + 2], "big")
            size = int.from_bytes(hello[pos + 2 : pos + 4], "big")
            if kind == 0:
                body = hello[pos + 4 : pos + 4 + size]
                name_len = int.from_bytes(body[3:5], "big")
                return body[5 : 5 + name_len].decode("ascii", "replace")
            pos += 4 + size
    except IndexError:
        return None
    return None


def http_head(data: bytes) -> tuple[str | None, str | None]:
    """(request line, Host header) of an HTTP/1 request's first bytes, or (None, None)."""
    head, _, _ = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or " HTTP/1." not in lines[0]:
        return None, None
    host = next((line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("host:")), None)
    return lines[0], host


class Sink:
    """The listeners of one run, writing events as JSON lines."""

    def __init__(self, config: SinkConfig) -> None:
        self.config = config
        self._out = Path(config.events).open("a", encoding="utf-8")  # noqa: SIM115 -- open for the process's life

    def record(self, event: dict[str, Any]) -> None:
        """Append one event and flush it (the sink is killed, never asked to stop)."""
        self._out.write(json.dumps(event) + "\n")
        self._out.flush()

    async def _read_first(self, reader: asyncio.StreamReader) -> bytes:
        data = b""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READ_SECONDS
        while len(data) < FIRST_BYTES:
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                chunk = await asyncio.wait_for(reader.read(FIRST_BYTES - len(data)), left)
            except TimeoutError:
                break
            if not chunk:
                break
            data += chunk
            if data[:1] == b"\x16" and len(data) >= 5 and len(data) >= 5 + int.from_bytes(data[3:5], "big"):
                break  # a whole ClientHello record
            line, _ = http_head(data)
            if line is not None and self._http_complete(data):
                break
        return data

    @staticmethod
    def _http_complete(data: bytes) -> bool:
        head, sep, body = data.partition(b"\r\n\r\n")
        if not sep:
            return False
        for line in head.decode("latin-1").split("\r\n")[1:]:
            if line.lower().startswith("content-length:"):
                try:
                    return len(body) >= min(int(line.split(":", 1)[1]), FIRST_BYTES)
                except ValueError:
                    return True
        return True

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Record one connection to any address and port: where it went and what it said first."""
        local = writer.get_extra_info("sockname")
        try:
            data = await self._read_first(reader)
            line, host = http_head(data)
            self.record(
                {
                    "kind": "tcp",
                    "address": local[0],
                    "port": local[1],
                    "sni": server_name(data),
                    "httpHost": host,
                    "requestLine": line,
                    "firstBytes": base64.b64encode(data).decode(),
                }
            )
            if line is not None:
                writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def api(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """The Kubernetes API stub: record each request, answer 403 (the prober decides what was allowed)."""
        try:
            while True:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                lines = head.decode("latin-1").split("\r\n")
                method, target = [*lines[0].split(" "), "", ""][:2]
                headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    await reader.readexactly(min(length, 1 << 20))
                token = headers.get("authorization", "").removeprefix("Bearer ").strip()
                self.record(
                    {
                        "kind": "api",
                        "method": method,
                        "target": target,
                        "authenticated": token == self.config.token,
                    }
                )
                body = json.dumps(
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "status": "Failure",
                        "reason": "Forbidden",
                        "code": 403,
                        "message": "plugingate probe: recorded, not served",
                    }
                ).encode()
                writer.write(
                    b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError, OSError, ssl.SSLError, ValueError):
            pass
        finally:
            writer.close()

    async def serve(self) -> None:
        """Listen on every configured port of every address, and on the API stub; then say ready."""
        servers = []
        for port in self.config.ports:
            servers.append(
                await asyncio.start_server(
                    self.connection,
                    "0.0.0.0",  # noqa: S104 -- every address is the point (see the module doc)
                    port,
                    reuse_address=True,
                    reuse_port=True,
                )
            )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.config.cert, self.config.key)
        servers.append(
            await asyncio.start_server(
                self.api, self.config.api_ip, self.config.api_port, ssl=context, reuse_address=True, reuse_port=True
            )
        )
        Path(self.config.ready).write_text("ready\n")
        await asyncio.gather(*(s.serve_forever() for s in servers))


def main(argv: list[str]) -> int:
    """Run the sink of the config file ``argv[0]`` until killed."""
    config = SinkConfig.from_json(Path(argv[0]).read_text())
    asyncio.run(Sink(config).serve())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
