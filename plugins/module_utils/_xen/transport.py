# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""XML-RPC answers decoded without a Python call per element (private to vdc.xenpool).

`XenAPI.Session` is an `xmlrpc.client.ServerProxy`: every answer goes through the transport's
`parse_response`, whose expat `Unmarshaller` runs three Python callbacks per element. A pool's
`event.from` at 2,000 VMs is about 58 MB of XML and 2.7 million elements, which cost that path 2.4 s of
CPU and about 110 MB of memory (a new string for each of the 750,000 member names).

`FastUnmarshaller` reads the compact XML that xapi writes (no whitespace between elements, strings as bare
`<value>text</value>`, xen-api `ocaml/xapi-rpc` / rpc-light `xmlrpc.ml`) with one regular expression per
chunk of about 256 KiB and turns each member or value into Python objects in one step; repeated keys and
values are shared, which halves the memory of the records. What it does not recognise (whitespace
between elements, comments, CDATA, other encodings, a fault, an invalid character or entity) is handed,
from the start of the chunk where it appears, to xmlrpc.client's own `Unmarshaller` behind the expat parser,
primed with the elements still open and the values read so far: the answer is then exactly what
`xmlrpc.client.loads` gives, and a malformed answer fails with the same exception. The answer is never
held whole: the body streams through.
"""

from __future__ import annotations

import contextlib
import gc
import re
import typing as t
import xmlrpc.client
from xml.parsers import expat

CHUNK = 1 << 18
_PREFIX = re.compile(rb"\A(?:<\?xml version=([\"'])1\.0\1(?: encoding=([\"'])(?:utf|UTF)-8\2)?\?>)?<methodResponse><params><param>")
_TAIL = re.compile(rb"</param></params></methodResponse>[ \t\r\n]*\Z")
# One member or array value per match, each alternative with its own group (findall gives a tuple per match):
# 1 "m" for a member, 2 its name, 3 string text, 4 boolean, 5 other scalar element, 6 opener, 7 closer, 8 anything else.
_TOKEN = re.compile(
    r"(?:<(m)ember><name>([^<]*+)</name>)?<value(?:/>(?(1)</member>)|>(?:"
    r"(?:([^<]*+)|<boolean>([01])</boolean>"
    r"|(<(?:i4|int|i8|double|string|dateTime\.iso8601|base64)>[^<]*+</[^>]++>|<nil/>))</value>(?(1)</member>)"
    r"|(<struct>|<array><data>)))"
    r"|(</struct></value></member>|</struct></value>|</data></array></value></member>|</data></array></value>)"
    r"|([\s\S])"
)
# closer -> (closes a struct, is the value of a member)
_CLOSERS = {"</struct></value></member>": (True, True), "</struct></value>": (True, False),
            "</data></array></value></member>": (False, True), "</data></array></value>": (False, False)}
# Bytes that may stand in character data as they are; expat refuses or rewrites the others (control characters,
# line ends), and U+FFFE, U+FFFF and "]]>" as well: a chunk holding any of them is left to it.
_PLAIN = bytes(range(0x20, 0x100)) + b"\t\n"
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}

Container = t.Union[t.Dict[str, t.Any], t.List[t.Any]]


class _Fallback(Exception):
    """The chunk holds something only expat and xmlrpc.client's Unmarshaller can judge."""


def _char(code: int) -> str:
    """A character reference as expat takes it: XML 1.0 characters only."""
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF:
        return chr(code)
    raise _Fallback()


def _unescape(text: str) -> str:
    def one(match: t.Match[str]) -> str:
        named, decimal, hexadecimal = match.groups()
        return _NAMED[named] if named else _char(int(decimal) if decimal else int(hexadecimal, 16))

    result = _ENTITY.sub(one, text)
    if "&" in _ENTITY.sub("", text):
        raise _Fallback()  # an undefined entity or a bare ampersand: expat's error to raise
    return result


def _scalar(element: str) -> t.Any:
    """A typed scalar element, converted as xmlrpc.client's Unmarshaller converts it (use_datetime false)."""
    if element == "<nil/>":
        return None
    tag = element[1:element.index(">")]
    if not element.endswith("</%s>" % tag):
        raise _Fallback()
    data = element[len(tag) + 2:-len(tag) - 3]
    if "&" in data:
        data = _unescape(data)
    try:
        if tag == "double":
            return float(data)
        if tag == "string":
            return data
        if tag == "dateTime.iso8601":
            value = xmlrpc.client.DateTime()
            value.decode(data)
            return value
        if tag == "base64":
            binary = xmlrpc.client.Binary()
            binary.decode(data.encode("ascii"))
            return binary
        return int(data)
    except (ValueError, TypeError) as exc:  # binascii.Error and UnicodeError are ValueErrors
        raise _Fallback() from exc


class FastUnmarshaller:
    """feed() the body in pieces, close() for what `xmlrpc.client.Unmarshaller.close()` would return."""

    def __init__(self, chunk: int = CHUNK, watch: t.Callable[[dict[str, t.Any]], None] | None = None) -> None:
        self.chunk = chunk
        self.watch = watch  # called with each struct of an array as soon as it is read (an event of event.from)
        self._parts: list[bytes] = []  # what was fed and not read yet
        self._size = 0
        self._check_at = chunk  # look for a place to cut at this size (doubled while there is none)
        self._started = False  # the prefix up to <param> has been read
        self._root: list[t.Any] = []
        self._stack: list[Container] = []
        self._cur: Container = self._root
        self._memo: dict[str, str] = {}
        self._expat: t.Any = None  # after a fallback: (expat parser, xmlrpc.client.Unmarshaller)

    @property
    def fell_back(self) -> bool:
        """Whether expat and xmlrpc.client's Unmarshaller took over (the tests prove the fast path is taken)."""
        return self._expat is not None

    def feed(self, data: bytes) -> None:
        if self._expat is not None:
            self._expat[0].Parse(data, False)
            return
        self._parts.append(data)
        self._size += len(data)
        if not self._started:
            buffer = self._buffer()
            match = _PREFIX.match(buffer)
            if match is None:
                if len(buffer) > 200 or not _could_start(buffer):
                    self._fall_back(prime=False)
                return
            self._set_buffer(buffer[match.end():])
            self._started = True
        if self._size >= self._check_at:
            buffer = self._buffer()
            cut = buffer.rfind(b"<member>", 1)
            if cut > 0:
                self._set_buffer(buffer[cut:])
                self._check_at = self._size + self.chunk
                self._part(buffer[:cut])
            else:
                self._check_at = 2 * self._size  # a long stretch without a member: joined a logarithmic number of times

    def close(self) -> tuple[t.Any, ...]:
        if self._expat is None:
            buffer = self._buffer()
            tail = _TAIL.search(buffer) if self._started else None
            if tail is None:
                self._fall_back(prime=self._started)
            else:
                self._set_buffer(b"")
                self._part(buffer, final=tail.start())
        if self._expat is not None:
            parser, unmarshaller = self._expat
            parser.Parse(b"", True)
            return unmarshaller.close()
        return tuple(self._root)

    def _buffer(self) -> bytes:
        buffer = b"".join(self._parts)
        self._parts = [buffer]
        return buffer

    def _set_buffer(self, buffer: bytes) -> None:
        self._parts, self._size = [buffer], len(buffer)

    def _part(self, raw: bytes, final: int | None = None) -> None:
        """Read one chunk (up to `final` at the end); on anything unusual, undo it and let expat read it."""
        path = self._stack + [self._cur]
        sizes = [len(container) for container in path]
        whole = raw
        try:
            if final is not None:
                raw = raw[:final]
            if _suspect(raw):
                raise _Fallback()
            self._tokens(raw.decode("utf-8"))
            if final is not None and self._stack:
                raise _Fallback()  # the answer ends inside a struct or an array
        except (_Fallback, UnicodeDecodeError):
            for container, size in zip(path, sizes):
                if isinstance(container, dict):
                    while len(container) > size:
                        container.popitem()
                else:
                    del container[size:]
            self._stack, self._cur = path[:-1], path[-1]
            self._fall_back(prime=True, raw=whole)

    def _tokens(self, text: str) -> None:  # noqa: C901 - one loop on purpose: it runs once per member
        memo = self._memo.setdefault
        stack, cur = self._stack, self._cur
        in_struct = isinstance(cur, dict)
        for member, name, string, boolean, scalar, opener, closer, other in _TOKEN.findall(text):
            if boolean or scalar or opener or closer or other:
                if opener:
                    value: t.Any = {} if opener == "<struct>" else []
                elif closer:
                    closes_struct, in_member = _CLOSERS[closer]
                    if in_struct is not closes_struct or not stack:
                        raise _Fallback()
                    done, cur = cur, stack.pop()
                    in_struct = isinstance(cur, dict)
                    if in_struct is not in_member:
                        raise _Fallback()
                    if closes_struct and not in_member and stack and self.watch is not None:  # in an array, not a param
                        self.watch(done)  # type: ignore[arg-type]
                    continue
                elif other:
                    raise _Fallback()
                else:
                    value = boolean == "1" if boolean else _scalar(scalar)
            else:
                value = memo(string, string) if "&" not in string else _unescape(string)
            if member:
                if not in_struct:
                    raise _Fallback()
                name = memo(name, name) if "&" not in name else _unescape(name)
                if opener and name in cur:
                    raise _Fallback()  # a struct or array under a repeated name would not be the struct's last value
                cur[name] = value  # type: ignore[index]
            elif in_struct:
                raise _Fallback()
            else:
                cur.append(value)  # type: ignore[union-attr]
            if opener:
                stack.append(cur)
                cur, in_struct = value, opener == "<struct>"
        self._cur = cur

    def _fall_back(self, prime: bool, raw: bytes = b"") -> None:
        """From here on expat and xmlrpc.client's Unmarshaller read the answer (`raw`, then what is pending),
        holding what was read so far."""
        parser = expat.ParserCreate(None, None)
        unmarshaller = xmlrpc.client.Unmarshaller()
        unmarshaller.xml(None, None)  # as xmlrpc.client.ExpatParser does
        if prime:
            path = self._stack + [self._cur]
            opened = ["<methodResponse><params><param>"]
            for parent, container in zip(path, path[1:]):
                opened.append("<member><value>" if isinstance(parent, dict) else "<value>")
                opened.append("<struct>" if isinstance(container, dict) else "<array><data>")
            parser.Parse("".join(opened).encode("ascii"), False)
            stack: list[t.Any] = []
            for depth, container in enumerate(path):
                if depth:
                    unmarshaller._marks.append(len(stack))  # pylint: disable=protected-access
                stack.extend(_flat(container, open_child=depth + 1 < len(path)))
            unmarshaller._stack[:] = stack  # pylint: disable=protected-access
        parser.StartElementHandler = unmarshaller.start
        parser.EndElementHandler = unmarshaller.end
        parser.CharacterDataHandler = unmarshaller.data
        self._expat = (parser, unmarshaller)
        rest = raw + self._buffer()
        self._set_buffer(b"")
        self._root, self._stack, self._cur, self._memo = [], [], [], {}
        parser.Parse(rest, False)


def _flat(container: Container, open_child: bool) -> list[t.Any]:
    """A container's values as xmlrpc.client's Unmarshaller stacks them while it is open: a struct as name, value,
    name, value, ...; the value still open (always the last one, see _tokens) is left out, its name is not."""
    if isinstance(container, list):
        return container[:-1] if open_child else list(container)
    flat = [item for pair in container.items() for item in pair]
    return flat[:-1] if open_child else flat


def _suspect(raw: bytes) -> bool:
    """Whether expat might read these bytes differently from their plain UTF-8 text (memchr-fast checks first)."""
    if raw.translate(None, _PLAIN):
        return True
    if b"]" in raw and b"]]>" in raw:
        return True
    return not raw.isascii() and (b"\xef\xbf\xbe" in raw or b"\xef\xbf\xbf" in raw)


def _could_start(data: bytes) -> bool:
    """Whether more bytes could still make the prefix match (an answer read a few bytes at a time)."""
    for prefix in (b'<?xml version="1.0"?><methodResponse><params><param>', b"<methodResponse><params><param>"):
        if prefix.startswith(data[:len(prefix)]):
            return True
    return data.startswith(b"<?xml")


class FastResponseMixin:
    """Mixed into an `xmlrpc.client.Transport`: parse_response through FastUnmarshaller.

    Only for the transport's defaults (no use_datetime / use_builtin_types, not verbose); otherwise the
    standard path runs. `watch` (set by XenClient.watching) sees each struct of an array as it is read.
    """

    watch: t.Callable[[dict[str, t.Any]], None] | None = None
    verbose: bool
    _use_datetime: bool
    _use_builtin_types: bool

    def parse_response(self, response: t.Any) -> tuple[t.Any, ...]:
        if self.verbose or self._use_datetime or self._use_builtin_types:
            return super().parse_response(response)  # type: ignore[misc]
        stream = response
        if hasattr(response, "getheader") and response.getheader("Content-Encoding", "") == "gzip":
            stream = xmlrpc.client.GzipDecodedResponse(response)
        unmarshaller = FastUnmarshaller(watch=self.watch)
        with _collector_paused():
            while True:
                data = stream.read(CHUNK)
                if not data:
                    break
                unmarshaller.feed(data)
            if stream is not response:
                stream.close()
            return unmarshaller.close()


@contextlib.contextmanager
def _collector_paused() -> t.Iterator[None]:
    """The cyclic garbage collector off while an answer is read: the records are a million new dicts, lists and
    strings without a cycle among them, and each collection would walk all of them again (0.13 s of 0.8 s at
    2,000 VMs). Reference counting still frees everything as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
