"""Speaking raw XMPP stream XML to xmppd from a test: no client library, so that every
byte, malformed ones included, is the test's choice."""
import re
import socket
import ssl

STREAM_ERROR = re.compile(rb"<stream:error><([a-z-]+) xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                          rb"(?:<text[^>]*>([^<]*)</text>)?(<[a-z-]+ xmlns='[^']*'/>)?</stream:error></stream:stream>")


def header(to, ns="jabber:client", version="1.0"):
    version_attr = f" version='{version}'" if version else ""
    return (f"<?xml version='1.0'?><stream:stream xmlns='{ns}' xmlns:stream='http://etherx.jabber.org/streams'"
            f" to='{to}'{version_attr}>").encode()


def read_until(sock, marker, limit=65536):
    """Reads until `marker` or the end of the connection; returns all that came."""
    data = b""
    while marker not in data and len(data) < limit:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def read_to_end(sock, limit=65536):
    data = b""
    while len(data) < limit:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def open_stream(sock, to, ns="jabber:client"):
    """Sends a stream header; returns the server's answer up to the end of its features."""
    sock.sendall(header(to, ns))
    data = read_until(sock, b"</stream:features>")
    assert b"<stream:features>" in data or b"<stream:features/>" in data, data
    return data


def connect(port, timeout=10):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def starttls(sock, to, ca_file, ns="jabber:client"):
    """Negotiates STARTTLS on a fresh connection; returns the TLS socket and the features
    offered before and after."""
    before = open_stream(sock, to, ns)
    sock.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    proceed = read_until(sock, b"/>")
    assert proceed == b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", proceed
    context = ssl.create_default_context(cafile=ca_file)
    tls = context.wrap_socket(sock, server_hostname=to)
    after = open_stream(tls, to, ns)
    return tls, before, after


def stream_error(data):
    """(condition, text) of the stream error at the end of `data`, or None."""
    m = STREAM_ERROR.search(data)
    return (m.group(1).decode(), (m.group(2) or b"").decode()) if m else None
