# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""transport.FastUnmarshaller gives exactly what xmlrpc.client.loads gives, for every answer.

Compact answers (xapi's form) must be read by the fast path itself (`fell_back` false), or these comparisons
would only test xmlrpc.client against itself; anything else must reach xmlrpc.client's Unmarshaller, from the
start or half-way through with what was read so far, and end equal or fail with the same exception.
"""

from __future__ import annotations

import gzip
import io
import random
import xmlrpc.client
from xml.parsers.expat import ExpatError

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import transport
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.transport import FastUnmarshaller


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def compact(value) -> str:
    """A value as xapi writes it: no whitespace, bare strings, ints only where XML-RPC types them."""
    if isinstance(value, bool):
        return "<value><boolean>%d</boolean></value>" % value
    if isinstance(value, int):
        return "<value><i4>%d</i4></value>" % value
    if isinstance(value, float):
        return "<value><double>%r</double></value>" % value
    if isinstance(value, str):
        text = _escape(value)
        return "<value>%s</value>" % text if text else "<value></value>"
    if isinstance(value, dict):
        members = "".join("<member><name>%s</name>%s</member>" % (_escape(k), compact(v)) for k, v in value.items())
        return "<value><struct>%s</struct></value>" % members
    if isinstance(value, list):
        return "<value><array><data>%s</data></array></value>" % "".join(compact(v) for v in value)
    if value is None:
        return "<value><nil/></value>"
    raise TypeError(value)


def answer(body: str, declaration: str = '<?xml version="1.0"?>') -> bytes:
    return ("%s<methodResponse><params><param>%s</param></params></methodResponse>" % (declaration, body)).encode("utf-8")


VARIED = {
    "Status": "Success",
    "Value": {
        "entities": "a < b > c & d \" e ' f",
        "empty": "",
        "unicode": "Zürich \u65e5\u672c \U0001f600",
        "nested": {"maps": {"x": {"y": {}}}, "lists": [[], [[]], ["a", ["b", {"c": "d"}]]], "empty_map": {}},
        "ints": [0, -1, 2147483647],
        "doubles": [0.0, -0.5, 1e300, 12.25],
        "bools": [True, False],
        "none": None,
        "events": [{"class": "vm", "ref": "OpaqueRef:%d" % i,
                    "snapshot": {"name_label": "vm %d" % i, "tags": ["t"], "other_config": {"k&": "v>"}}} for i in range(40)],
    },
}
# Typed forms a compact answer may carry besides the bare ones, with what xmlrpc.client makes of them.
TYPED = ('<value><struct><member><name>when</name><value><dateTime.iso8601>20261206T01:02:03Z</dateTime.iso8601></value></member>'
         "<member><name>blob</name><value><base64>aGVsbG8=</base64></value></member>"
         "<member><name>wrapped</name><value><string>a&amp;b</string></value></member>"
         "<member><name>short</name><value/></member>"
         "<member><name>int</name><value><int>-7</int></value></member><member><name>i8</name><value><i8>9007199254740993</i8></value></member>"
         "<member><name>chars</name><value>&#65;&#x1F600;&#13;&quot;&apos;</value></member>"
         "<member><name>dup</name><value>first</value></member><member><name>dup</name><value>second</value></member>"
         "<member><name>list</name><value><array><data><value><boolean>1</boolean></value><value/><value><nil/></value>"
         "<value><dateTime.iso8601>20260101T00:00:00</dateTime.iso8601></value></data></array></value></member></struct></value>")


def fast(body: bytes, chunk: int = transport.CHUNK, piece: int | None = None) -> tuple[tuple, bool]:
    """(FastUnmarshaller's answer, whether it fell back), the body fed `piece` bytes at a time."""
    reader = FastUnmarshaller(chunk=chunk)
    piece = piece or len(body) or 1
    for start in range(0, len(body), piece):
        reader.feed(body[start:start + piece])
    return reader.close(), reader.fell_back


def expected(body: bytes):
    """What xmlrpc.client makes of the body: its params, or the exception it raises."""
    try:
        return xmlrpc.client.loads(body)[0]
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return exc


@pytest.mark.parametrize("chunk,piece", [(transport.CHUNK, None), (64, 1), (64, 7), (200, 333), (1, 50), (4096, 100)])
def test_compact_answers_read_by_the_fast_path(chunk, piece):
    for body in (answer(compact(VARIED)), answer(TYPED), answer(compact("x")), answer(compact([])),
                 answer(compact({"a": "b"}), declaration="<?xml version='1.0' encoding='UTF-8'?>"), answer(compact({}), "")):
        got, fell_back = fast(body, chunk, piece)
        assert got == xmlrpc.client.loads(body)[0]
        assert not fell_back, body[:200]


def test_values_keep_their_types():
    got, fell_back = fast(answer(TYPED))
    value = got[0]
    assert not fell_back
    assert isinstance(value["when"], xmlrpc.client.DateTime) and value["when"].value == "20261206T01:02:03Z"
    assert isinstance(value["blob"], xmlrpc.client.Binary) and value["blob"].data == b"hello"
    assert value["chars"] == "A\U0001f600\r\"'" and value["short"] == "" and value["dup"] == "second"
    assert value["list"][0] is True and value["list"][2] is None and value["i8"] == 9007199254740993
    assert list(value).index("dup") == list(xmlrpc.client.loads(answer(TYPED))[0][0]).index("dup")
    doubles = fast(answer(compact([1.0, 0.0])))[0][0]
    assert doubles == [1.0, 0.0] and all(isinstance(d, float) for d in doubles)


def _random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 4 else 5)
    if kind == 0:
        return rng.choice(["", "plain", "a&b", "<x>", "]", "tab\there", "new\nline", "é", "OpaqueRef:NULL"])
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randrange(-1000, 1000)
    if kind == 3:
        return rng.choice([0.0, 1.5, -2.0, 1e-7])
    if kind == 4:
        return None
    if kind in (5, 6):
        keys = [rng.choice(["k", "uuid", "", "x&y", "k%d" % rng.randrange(5)]) for _member in range(rng.randrange(5))]
        return {key: _random_value(rng, depth + 1) for key in keys}
    return [_random_value(rng, depth + 1) for _item in range(rng.randrange(5))]


def test_random_answers_in_random_pieces():
    rng = random.Random(20261206)
    for _trial in range(300):
        body = answer(compact(_random_value(rng)))
        got, fell_back = fast(body, chunk=rng.choice([1, 16, 64, 1024]), piece=rng.choice([1, 5, 64, 1000]))
        assert got == xmlrpc.client.loads(body)[0] and not fell_back


# Answers only expat can judge: each must end as xmlrpc.client ends, equal or with the same exception type.
ODD = [
    xmlrpc.client.dumps((VARIED,), methodresponse=True, allow_none=True).encode(),  # whitespace between elements
    xmlrpc.client.dumps(xmlrpc.client.Fault(42, "it & failed"), methodresponse=True).encode(),
    answer("<value><struct><member><name>a</name><value>x</value></member><!-- note --></struct></value>"),
    answer("<value><![CDATA[<raw> & ]]></value>"),
    answer("<value>a\r\nb\rc</value>"),
    answer("<value>a]]>b</value>"),
    answer("<value>bad\x01char</value>"),
    answer("<value>&bogus;</value>"),
    answer("<value>&#0;</value>"),
    answer("<value><boolean>2</boolean></value>"),
    answer("<value><int>1.5</int></value>"),
    answer("<value><i4>1</int></value>"),
    answer("<value><ex:nil/></value>"),
    answer("<value><struct><value>x</value></struct></value>"),
    answer("<value><array><data><member><name>a</name><value>b</value></member></data></array></value>"),
    answer("<value><struct></array></value>"),
    answer("<value>x</value></param><param><value>y</value>"),
    answer("<value><struct><member><name>a</name><value>x</value></member><member><name>b</name><value>y</value></member>"
           "<member><name>a</name><value><struct><member><name>c</name><value>1</value></member><!-- -->"
           "<member><name>d</name><value>2</value></member></struct></value></member></struct></value>"),
    answer("<value><struct><member><name>a</name><value>b</value></member>"),
    ("<?xml version='1.0' encoding='ISO-8859-1'?><methodResponse><params><param><value>caf\xe9</value>"
     "</param></params></methodResponse>").encode("latin-1"),
    answer("<value>\xe9</value>").replace("\xe9".encode(), b"\xff"),
    answer("<value>\ufffe</value>"),
    answer("<value>x</value>") + b"<!-- trailing -->",
    answer("<value>x</value>") + b"garbage",
    b"",
    b"<methodResponse><params><param>",
    b"not xml at all",
]


@pytest.mark.parametrize("index", range(len(ODD)))
@pytest.mark.parametrize("chunk,piece", [(transport.CHUNK, None), (16, 3)])
def test_odd_answers_end_as_xmlrpc_client_ends(index, chunk, piece):
    body = ODD[index]
    want = expected(body)
    try:
        got, fell_back = fast(body, chunk, piece)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        assert isinstance(want, Exception), "fast path raised %r where xmlrpc.client gave %r" % (exc, want)
        assert type(exc) is type(want)
        if isinstance(want, xmlrpc.client.Fault):
            assert (exc.faultCode, exc.faultString) == (want.faultCode, want.faultString)
        return
    assert not isinstance(want, Exception), "fast path gave %r where xmlrpc.client raised %r" % (got, want)
    assert got == want and fell_back


def test_fallback_half_way_keeps_what_was_read():
    """A comment after many compact members: the members before it were read fast, the rest by expat."""
    records = {"r%d" % i: {"name": "vm %d" % i, "tags": ["a", "b"], "n": [i]} for i in range(200)}
    body = answer(compact({"Value": records})[:-len("</struct></value>")] + "<!-- late -->"
                  + "<member><name>after</name><value>x</value></member></struct></value>")
    reader = FastUnmarshaller(chunk=512)
    reader.feed(body[:len(body) // 2])
    assert not reader.fell_back  # the first half went through the fast path
    reader.feed(body[len(body) // 2:])
    assert reader.close() == xmlrpc.client.loads(body)[0] and reader.fell_back


def test_fallback_anywhere_in_random_answers():
    """Something only expat reads (a comment, or a blank) put before a random tag of a random answer: the fast path
    hands over there, wherever that is in the nesting, and the answer is still xmlrpc.client's."""
    rng = random.Random(61206)
    handed_over = 0
    for _trial in range(300):
        body = answer(compact({"events": [_random_value(rng) for _event in range(rng.randrange(1, 4))]}))
        tags = [i for i in range(body.index(b"<param>") + 7, body.rindex(b"</param>")) if body[i:i + 1] == b"<"]
        at = rng.choice(tags)
        body = body[:at] + rng.choice([b"<!-- x -->", b" ", b"<?pi?>"]) + body[at:]
        reader = FastUnmarshaller(chunk=rng.choice([1, 32, 256]))
        piece = rng.choice([1, 9, 100])
        want = expected(body)
        try:
            for start in range(0, len(body), piece):
                reader.feed(body[start:start + piece])
            got = reader.close()
        except Exception as exc:  # pylint: disable=broad-exception-caught
            assert type(exc) is type(want)
            continue
        assert got == want
        handed_over += reader.fell_back
    assert handed_over > 250


def _structs_in_arrays(value, found: list) -> list:
    """Every struct that is an element of an array, in the order their reading ends (inner ones first)."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in items:
        _structs_in_arrays(item, found)
        if isinstance(value, list) and isinstance(item, dict):
            found.append(item)
    return found


def test_watch_sees_each_struct_of_an_array_as_it_is_read():
    body = answer(compact(VARIED))
    seen: list = []
    reader = FastUnmarshaller(chunk=512, watch=seen.append)
    half = len(body) // 2
    reader.feed(body[:half])
    seen_before_the_end = len(seen)
    reader.feed(body[half:])
    value = reader.close()[0]
    assert seen == _structs_in_arrays(value, []) and len(seen) == 41  # 40 events and one struct in "lists"
    assert 0 < seen_before_the_end < 41  # events are handed over while the rest is still unread
    transport_seen: list = []
    fast_transport = _Transport()
    fast_transport.watch = transport_seen.append
    fast_transport.parse_response(_Response(body))
    assert transport_seen == seen


class _Response(io.BytesIO):
    """An http.client.HTTPResponse as parse_response reads it: read(n) and getheader()."""

    def __init__(self, body: bytes, encoding: str = "") -> None:
        super().__init__(body)
        self.encoding = encoding

    def getheader(self, name, default=None):
        return self.encoding if name == "Content-Encoding" and self.encoding else default


class _Transport(transport.FastResponseMixin, xmlrpc.client.Transport):
    verbose = False  # single_request sets it before parse_response


class _Standard(xmlrpc.client.Transport):
    verbose = False


def test_transport_parse_response_plain_gzip_and_fault():
    body = answer(compact(VARIED))
    want = _Standard().parse_response(_Response(body))
    assert _Transport().parse_response(_Response(body)) == want
    assert _Transport().parse_response(_Response(gzip.compress(body), "gzip")) == want
    fault = xmlrpc.client.dumps(xmlrpc.client.Fault(7, "no"), methodresponse=True).encode()
    with pytest.raises(xmlrpc.client.Fault, match="no"):
        _Transport().parse_response(_Response(fault))
    with pytest.raises(ExpatError):
        _Transport().parse_response(_Response(answer("<value>&bogus;</value>")))
