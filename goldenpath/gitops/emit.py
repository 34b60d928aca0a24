"""Deterministic block-style YAML for the plain data the renderer produces: the writer of
every object file in the control repository (``render --out``, ``apply``, the API).

PyYAML's dumper builds a node graph in Python and resolves every scalar against YAML
1.1's implicit types before libyaml writes a byte; for 110,000 objects that is most of a
full render. The objects goldenpath writes are plain JSON data (dict with str keys, list,
str, int, float, bool, None), so this module writes them directly, in the shape PyYAML's
``sort_keys=True, default_flow_style=False`` gives (sorted keys, block style, sequences
not indented under their key, ``{}``/``[]`` for empty collections), with its own rules for
scalars:

- a string is written plain only when no YAML reader can take it for anything else: it
  starts with a letter, ``_`` or ``/``, holds only ``[A-Za-z0-9_./@=+-]``, with single
  ``:`` or spaces between runs of those, and is no word YAML 1.1 or 1.2 reads as a bool or
  null (``yes``, ``No``, ``on``, ``y``, ``null`` ...); so no number, date, bool, null,
  indicator, comment or ``key: value`` is ever plain, for PyYAML, Go's yaml.v2/v3
  (kubectl, kustomize, Argo CD) alike;
- a multi-line string is a literal block (``|``, or ``|-`` without a final line break)
  when YAML gives every line back as it is: printable, no tab, no other line break than
  ``\\n``, no blank at a line's end or the block's start, at most one final break;
  otherwise, like every other string, double-quoted with JSON's escapes, plus
  ``\\uXXXX`` for the characters YAML does not allow raw (or reads as line breaks);
- ints, bools (``true``/``false``), None (``null``) and floats as PyYAML writes them.

Anything else (a key that is no string, a tuple, any other type) is written by PyYAML's
own dumper, exactly as before: this module never guesses at a type. The guarantee, which
the tests check by property over hostile strings: ``yaml.safe_load(dump(obj)) == obj``
and the same text for the same object, always.
"""

from __future__ import annotations

import re
from json.encoder import encode_basestring
from typing import Any

import yaml

_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_PLAIN = re.compile(r"[A-Za-z_/][\w./@=+-]*(?:[: ][\w./@=+-]+)*", re.ASCII)
#: words YAML 1.1 (PyYAML, yaml.v2) or 1.2 (yaml.v3) reads as a bool or null, any case
_KEYWORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})
#: characters YAML does not allow raw in a stream (or reads as line breaks): escaped
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
                          "\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
#: characters a literal block would not give back as they are: tabs, line breaks other
#: than "\n", and what YAML does not allow raw (see _literal_ok for the rest)
_NOT_LITERAL = re.compile("[\t\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
                          "\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
#: PyYAML's emitter writes no implicit key longer than this (YAML allows 1024 characters)
_MAX_KEY = 128
#: single-line strings of at most _SHORT_MAX characters and keys, as written, remembered
#: up to _MEMO_ENTRIES each: names, labels and keys repeat across every object
_SHORT_MAX = 256
_MEMO_ENTRIES = 1 << 16
_KEYS: dict[str, str] = {}
_SHORT: dict[str, str] = {}


class Unsupported(TypeError):
    """A value of a type this writer does not handle; PyYAML's dumper writes the object."""


def dump(body: dict[str, Any]) -> str:
    """The YAML document of ``body``: sorted keys, block style, one trailing newline."""
    try:
        return _document(body)
    except Unsupported:
        text: str = yaml.dump(body, Dumper=_Dumper, sort_keys=True, default_flow_style=False,
                              allow_unicode=True, width=1 << 16)
        return text


def _document(body: Any) -> str:
    if type(body) is dict and body:
        out: list[str] = []
        _mapping(body, 0, out)
        return "".join(out)
    if type(body) is list and body:
        out = []
        _sequence(body, 0, out)
        return "".join(out)
    return _scalar(body, -1) + "\n"


def _mapping(data: dict[Any, Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    try:
        keys = sorted(data)
    except TypeError:
        raise Unsupported("keys that do not sort") from None
    for key in keys:
        head = _KEYS.get(key)
        if head is None:
            head = _key(key)
        value = data[key]
        kind = type(value)
        if kind is str:
            text = _SHORT.get(value)
            if text is None:
                text = _string(value, indent + 2)
            out.append(f"{pad}{head} {text}\n")
        elif kind is dict and value:
            out.append(f"{pad}{head}\n")
            _mapping(value, indent + 2, out)
        elif kind is list and value:
            out.append(f"{pad}{head}\n")
            _sequence(value, indent, out)  # PyYAML's style: not indented under the key
        else:
            out.append(f"{pad}{head} {_scalar(value, indent + 2)}\n")


def _key(key: Any) -> str:
    """``key:`` as written, remembered (keys repeat across every object)."""
    if type(key) is not str or len(key) > _MAX_KEY:
        raise Unsupported("a key that is no short string")
    head = _string(key, -1) + ":"
    _remember(_KEYS, key, head)
    return head


def _sequence(items: list[Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for item in items:
        kind = type(item)
        if (kind is dict or kind is list) and item:
            # the collection at indent + 2, its first line starting after "- "
            start = len(out)
            if kind is dict:
                _mapping(item, indent + 2, out)
            else:
                _sequence(item, indent + 2, out)
            out[start] = f"{pad}- {out[start][indent + 2:]}"
        else:
            out.append(f"{pad}- {_scalar(item, indent + 2)}\n")


def _scalar(value: Any, indent: int) -> str:
    kind = type(value)
    if kind is str:
        return _SHORT.get(value) or _string(value, indent)
    if kind is int:
        return str(value)
    return _other(value, kind)


def _other(value: Any, kind: type) -> str:
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if kind is float:
        return _float(value)
    if (kind is dict or kind is list) and not value:
        return "{}" if kind is dict else "[]"
    raise Unsupported(f"a {kind.__name__}")


def _string(text: str, indent: int) -> str:
    """``text`` as a scalar; ``indent`` is where a literal block's lines go (-1: a key or
    a document of its own, never a block). Single-line strings are remembered."""
    if "\n" not in text:
        if _PLAIN.fullmatch(text) and text.lower() not in _KEYWORDS:
            written = text
        else:
            written = _quoted(text)
        if len(text) <= _SHORT_MAX:
            _remember(_SHORT, text, written)
        return written
    if indent > 0 and _literal_ok(text):
        return _literal(text, indent)
    return _quoted(text)


def _quoted(text: str) -> str:
    quoted: str = encode_basestring(text)
    return _UNPRINTABLE.sub(_escape, quoted) if _UNPRINTABLE.search(quoted) else quoted


def _literal_ok(text: str) -> bool:
    # at most one final break: "|+" would end the file on a blank line
    return not (text[0] in " \n" or text.endswith((" ", "\n\n")) or " \n" in text
                or _NOT_LITERAL.search(text))


def _literal(text: str, indent: int) -> str:
    body = text.removesuffix("\n")
    pad = " " * indent
    if "\n\n" in body:  # empty lines stay empty: no trailing blanks in the file
        lines = "\n".join(pad + line if line else "" for line in body.split("\n"))
    else:
        lines = pad + body.replace("\n", "\n" + pad)
    return f"|{'' if len(body) < len(text) else '-'}\n{lines}"


def _remember(memo: dict[str, str], text: str, written: str) -> None:
    if len(memo) >= _MEMO_ENTRIES:
        memo.clear()  # bounded, and cheap to fill again: no LRU bookkeeping per string
    memo[text] = written


def _escape(match: re.Match[str]) -> str:
    char = ord(match.group())
    return f"\\u{char:04x}" if char <= 0xFFFF else f"\\U{char:08x}"


def _float(value: float) -> str:
    """As PyYAML's SafeRepresenter writes a float, so it reads back as one."""
    if value != value:  # noqa: PLR0124 (NaN is the one value not equal to itself)
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text
