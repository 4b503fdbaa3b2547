"""HTTP written by hand for the serving tests: requests sent in pieces, slowly or cut off, over raw sockets."""

from __future__ import annotations


def multipart_body(files=(), fields=(), boundary: str = "caption-test-boundary") -> tuple[bytes, dict]:
    """A ``multipart/form-data`` body and its headers, written by hand so that tests can send it as they like
    (in pieces, slowly, cut off). ``files``: ``(field, filename, bytes, type)``; ``fields``: ``(name, value)``."""
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for field, filename, data, kind in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                     f"Content-Type: {kind}\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}", "content-length": str(len(body))}


def raw_request_head(url: str, headers: dict, path: str = "/caption") -> bytes:
    """The request line and headers of a POST to ``url`` + ``path``, as bytes for a raw socket."""
    host = url.split("//")[1]
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", *(f"{key}: {value}" for key, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock, timeout: float = 30.0) -> tuple[int, dict, bytes]:
    """Read one HTTP response (until the server closes or the declared length has come): status, headers, body."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"the server closed the connection without a response ({data!r})")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1].strip() for line in header_lines}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body
