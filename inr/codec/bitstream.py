"""The codec's file: a versioned header, length-prefixed sections, a checksum, and the range
coder that fills them.

Layout (little-endian; ``v`` is an unsigned LEB128 varint), stated once:

    magic  b"INRC"                     4 bytes
    version                            u8   (:data:`VERSION`; :data:`READS` are decoded)
    header length, then the header     v, then:
      axes, shape                        u8 d, u8 n, v x n
      value range                        u8: 0 for [0, 1], 1 for [-1, 1], else 2 and f64 x 2
      latent channels per grid           u8 n, u8 x n
      synthesis hidden widths            u8 n, v x n
      context width                      v
      refining filter                    u8: 1 if the synthesis has one, else 0
                                         (since version 5; a version 4 file has none)
      synthesis weight steps             u8 n, u8 x n (its tensors in name order)
      entropy model's weight step        u8
      coded tensors' scale indices       u8 n, u8 x n (tensors in name order)
      metadata                           the rest: a JSON object, or nothing
    sections                           u8 count, then per section: v length in
                                       32-bit words, the words
    crc32 of everything before it      u32

A compact binary header because it is paid on every file: about fifty
bytes, where the same fields in JSON cost hundreds (a tenth of a small
photo's file) and fixed-width ones eighty.

A section holds one range-coded stream (:mod:`constriction`'s range
coder, 32-bit words): the network weights, then the latents.  Symbols are
coded with the integer tables of :mod:`inr.codec.tables`: a symbol's row is
chosen by its quantized Laplace (scale ``s``, fraction ``f``, integer part
``m``); symbols are grouped by their rows' support so that each group is
one vectorised call, and a value outside its row's support is an escape
followed by 32 raw bits (two 16-bit halves of its offset from -2^31).  Bad
bytes (another format, a truncation, a flipped bit, a version this library
does not read) raise :class:`ValueError` saying which, before anything is
decoded.
"""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np

from inr._extras import require
from inr.codec import tables

__all__ = ["MAGIC", "READS", "VERSION", "Reader", "Writer", "pack", "unpack"]

MAGIC = b"INRC"
VERSION = 5
_HALF = 2**16
_OFFSET = 2**31


def _constriction():
    return require("constriction", "codec")


_RANGES = ([0.0, 1.0], [-1.0, 1.0])  # value ranges named by one byte

# (name, count format or None for one item, item format, the first version holding it) of
# the header, in file order; "v" is a varint and "r" a value range.  A field newer than a
# file reads as 0 (a version 4 file's synthesis has no refining filter).
_FIELDS = (("dims", None, "B", 4), ("shape", "B", "v", 4), ("range", None, "r", 4),
           ("latents", "B", "B", 4), ("hidden", "B", "v", 4), ("context", None, "v", 4),
           ("refine", None, "B", 5), ("bits", "B", "B", 4), ("context_bits", None, "B", 4),
           ("scales", "B", "B", 4))  # fmt: skip
READS = (4, 5)
"""The versions this library decodes (it writes :data:`VERSION`)."""


def _varint(n: int) -> bytes:
    """``n >= 0`` as LEB128: seven bits a byte, low first, the high bit set on all but the last."""
    if n < 0:
        raise ValueError(f"a varint cannot hold {n}")
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n >= 0x80 else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    """``(value, next position)`` of the varint at ``at``."""
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("a varint runs past its bytes")
        value |= (data[at] & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if data[at - 1] < 0x80:
            return value, at


def _item_bytes(item: str, value) -> bytes:
    if item == "v":
        return _varint(int(value))
    if item == "r":
        value = [float(v) for v in value]
        known = [i for i, r in enumerate(_RANGES) if r == value]
        return struct.pack("<B", known[0]) if known else struct.pack("<B2d", 2, *value)
    return struct.pack("<" + item, value)


def _read_item(item: str, data: bytes, at: int) -> tuple:
    if item == "v":
        return _read_varint(data, at)
    if item == "r":
        if data[at] < len(_RANGES):
            return list(_RANGES[data[at]]), at + 1
        if data[at] != len(_RANGES):
            raise ValueError(f"unknown value range kind {data[at]}")
        return list(struct.unpack_from("<2d", data, at + 1)), at + 17
    return struct.unpack_from("<" + item, data, at)[0], at + struct.calcsize("<" + item)


def _header_bytes(header: dict, version: int = VERSION) -> bytes:
    """A header dict (:func:`unpack`'s keys) as the bytes of the format's ``version``."""
    parts = []
    try:
        for name, count, item, since in _FIELDS:
            if version < since:
                continue
            values = [header[name]] if count is None else list(header[name])
            if count is not None:
                parts.append(struct.pack("<" + count, len(values)))
            parts += [_item_bytes(item, v) for v in values]
    except (KeyError, TypeError, ValueError, struct.error) as exc:
        raise ValueError(f"the header cannot be written in the format: {exc}") from None
    if header.get("metadata"):
        parts.append(json.dumps(header["metadata"], separators=(",", ":"), sort_keys=True).encode())
    return b"".join(parts)


def _header_dict(text: bytes, version: int = VERSION) -> dict:
    """The header dict of the bytes of the format's ``version``; ``ValueError`` if they do not
    parse."""
    header, at = {}, 0
    try:
        for name, count, item, since in _FIELDS:
            if version < since:
                header[name] = 0
                continue
            n = 1 if count is None else text[at]
            at += 0 if count is None else 1
            values = []
            for _ in range(n):
                value, at = _read_item(item, text, at)
                values.append(value)
            header[name] = values[0] if count is None else values
        if at < len(text):
            header["metadata"] = json.loads(text[at:])
    except (IndexError, struct.error, ValueError) as exc:
        raise ValueError(f"data has an unreadable header: {exc}") from None
    return header


def pack(header: dict, sections: list[bytes]) -> bytes:
    """The file of a ``header`` (:func:`unpack`'s keys) and its ``sections`` (32-bit words)."""
    text = _header_bytes(header)
    if len(sections) >= 2**8 or any(len(s) % 4 for s in sections):
        raise ValueError("the sections must be fewer than 256, each of whole 32-bit words")
    parts = [MAGIC, struct.pack("<B", VERSION), _varint(len(text)), text]
    parts += [struct.pack("<B", len(sections))] + [_varint(len(s) // 4) + s for s in sections]
    body = b"".join(parts)
    return body + struct.pack("<I", zlib.crc32(body))


def unpack(data) -> tuple[dict, list[bytes]]:
    """``(header, sections)`` of a file, checked: ``ValueError`` says what is wrong.

    The header's keys: ``dims``, ``shape``, ``range``, ``latents``, ``hidden``,
    ``context``, ``refine``, ``bits`` (a list), ``context_bits``, ``scales`` and, when the
    file has any, ``metadata``.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"data must be bytes; got {type(data).__name__}")
    data = bytes(data)
    if len(data) < 4 or data[:4] != MAGIC:
        raise ValueError("data is not an inr codec file (no INRC magic)")
    if len(data) < 11:
        raise ValueError("data is truncated: shorter than the smallest file")
    body, (crc,) = data[:-4], struct.unpack("<I", data[-4:])
    version = data[4]
    if version not in READS:
        raise ValueError(f"data is a version {version} file; this library reads versions "
                         f"{', '.join(map(str, READS))}")  # fmt: skip
    if zlib.crc32(body) != crc:
        raise ValueError("data is corrupt or truncated: its checksum does not match")
    try:
        size, at = _read_varint(body, 5)
        header = _header_dict(body[at : at + size], version)
        at, sections = at + size, []
        count, at = body[at], at + 1
        for _ in range(count):
            words, at = _read_varint(body, at)
            sections.append(body[at : at + 4 * words])
            at += 4 * words
    except IndexError:
        raise ValueError("data is truncated inside its sections") from None
    if at != len(body) or any(len(s) % 4 for s in sections):
        raise ValueError("data's sections do not add up to its length")
    return header, sections


def _rows(s: np.ndarray, f: np.ndarray):
    """Symbols grouped by support: ``[(K, positions, probabilities (n, 2K + 2))]``."""
    out = []
    for k in tables.SUPPORTS:
        scales, rows = tables.bucket(k)
        if not len(scales):
            continue
        local = np.searchsorted(scales, s)
        local = np.minimum(local, len(scales) - 1)
        here = np.flatnonzero(scales[local] == s)
        if len(here):
            out.append((k, here, rows[local[here], f[here]]))
    return out


class Writer:
    """A range-coded stream of integers, each with its quantized Laplace (``s``, ``f``, ``m``)."""

    def __init__(self):
        constriction = _constriction()
        self._coder = constriction.stream.queue.RangeEncoder()
        self._model = constriction.stream.model

    def integers(self, values, s, f, m) -> None:
        """Code ``values`` (int) under the rows of scales ``s``, fractions ``f``, offsets ``m``."""
        values, s, f, m = (np.asarray(a, np.int64).reshape(-1) for a in (values, s, f, m))
        for k, where, probabilities in _rows(s, f):
            offset = values[where] - m[where]
            outside = np.abs(offset) > k
            symbols = np.where(outside, 2 * k + 1, offset + k).astype(np.int32)
            self._coder.encode(symbols, self._model.Categorical(perfect=False), probabilities)
            escaped = values[where][outside] + _OFFSET
            if np.any((escaped < 0) | (escaped >= 2 * _OFFSET)):
                raise ValueError("a value is beyond the format's 32-bit escape range")
            for half in (escaped >> 16, escaped & (_HALF - 1)):
                if len(half):
                    self._coder.encode(half.astype(np.int32), self._model.Uniform(_HALF))

    def bytes(self) -> bytes:
        return np.asarray(self._coder.get_compressed(), "<u4").tobytes()


class Reader:
    """The integers of a :class:`Writer`'s stream, decoded in the order they were written."""

    def __init__(self, data: bytes):
        constriction = _constriction()
        words = np.frombuffer(data, "<u4").astype(np.uint32)
        self._coder = constriction.stream.queue.RangeDecoder(words)
        self._model = constriction.stream.model

    def integers(self, s, f, m) -> np.ndarray:
        """Values coded with :meth:`Writer.integers` under the same ``s``, ``f``, ``m``."""
        s, f, m = (np.asarray(a, np.int64).reshape(-1) for a in (s, f, m))
        values = np.zeros(len(s), np.int64)
        for k, where, probabilities in _rows(s, f):
            symbols = self._coder.decode(self._model.Categorical(perfect=False), probabilities)
            symbols = np.asarray(symbols, np.int64)
            outside = symbols == 2 * k + 1
            values[where] = symbols - k + m[where]
            if np.any(outside):
                count = int(outside.sum())
                high, low = (np.asarray(self._coder.decode(self._model.Uniform(_HALF), count),
                                        np.int64) for _ in range(2))  # fmt: skip
                values[where[outside]] = (high << 16) + low - _OFFSET
        return values
