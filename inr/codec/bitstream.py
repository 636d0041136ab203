"""The codec's file: a versioned header, length-prefixed sections, a checksum, and the range
coder that fills them.

Layout (little-endian), stated once:

    magic  b"INRC"                     4 bytes
    version                            u8   (:data:`VERSION`)
    header length, then the header     u16, then:
      axes, shape                        u8 d, u8 n, u32 x n
      value range                        f64 x 2
      latent channels per grid           u8 n, u8 x n
      synthesis hidden widths            u8 n, u16 x n
      context width, weight steps        u16, u8 synthesis, u8 entropy model
      coded tensors' scale indices       u8 n, u8 x n (tensors in name order)
      metadata                           the rest: a JSON object, or nothing
    sections                           u8 count, then per section: u32 length, bytes
    crc32 of everything before it      u32

A binary header because it is paid on every file: a few dozen bytes, where
the same fields in JSON cost hundreds (a tenth of a small photo's file).

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

__all__ = ["MAGIC", "VERSION", "Reader", "Writer", "pack", "unpack"]

MAGIC = b"INRC"
VERSION = 2
_HALF = 2**16
_OFFSET = 2**31


def _constriction():
    return require("constriction", "codec")


# (name, count format or None for one fixed item, item format) of the header, in file order.
_FIELDS = (("dims", None, "B"), ("shape", "B", "I"), ("range", None, "2d"),
           ("latents", "B", "B"), ("hidden", "B", "H"), ("context", None, "H"),
           ("bits", None, "B"), ("context_bits", None, "B"), ("scales", "B", "B"))  # fmt: skip


def _header_bytes(header: dict) -> bytes:
    """A header dict (:func:`unpack`'s keys) as the format's bytes."""
    parts = []
    try:
        for name, count, item in _FIELDS:
            values = header[name]
            if count is None:
                values = values if isinstance(values, (list, tuple)) else [values]
                parts.append(struct.pack("<" + item, *values))
            else:
                parts.append(struct.pack(f"<{count}{len(values)}{item}", len(values), *values))
    except (KeyError, TypeError, struct.error) as exc:
        raise ValueError(f"the header cannot be written in the format: {exc}") from None
    if header.get("metadata"):
        parts.append(json.dumps(header["metadata"], separators=(",", ":"), sort_keys=True).encode())
    return b"".join(parts)


def _header_dict(text: bytes) -> dict:
    """The header dict of the format's bytes; ``ValueError`` if they do not parse."""
    header, at = {}, 0
    try:
        for name, count, item in _FIELDS:
            if count is not None:
                item, at = f"{text[at]}{item}", at + 1
            values = struct.unpack_from("<" + item, text, at)
            at += struct.calcsize("<" + item)
            header[name] = values[0] if count is None and len(values) == 1 else list(values)
        if at < len(text):
            header["metadata"] = json.loads(text[at:])
    except (IndexError, struct.error, ValueError) as exc:
        raise ValueError(f"data has an unreadable header: {exc}") from None
    return header


def pack(header: dict, sections: list[bytes]) -> bytes:
    """The file of a ``header`` (:func:`unpack`'s keys) and its ``sections``."""
    text = _header_bytes(header)
    if len(text) >= 2**16 or len(sections) >= 2**8:
        raise ValueError("the header or the sections are too large for the format")
    parts = [MAGIC, struct.pack("<BH", VERSION, len(text)), text, struct.pack("<B", len(sections))]
    parts += [struct.pack("<I", len(s)) + s for s in sections]
    body = b"".join(parts)
    return body + struct.pack("<I", zlib.crc32(body))


def unpack(data) -> tuple[dict, list[bytes]]:
    """``(header, sections)`` of a file, checked: ``ValueError`` says what is wrong.

    The header's keys: ``dims``, ``shape``, ``range``, ``latents``, ``hidden``,
    ``context``, ``bits``, ``context_bits``, ``scales`` and, when the file has
    any, ``metadata``.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"data must be bytes; got {type(data).__name__}")
    data = bytes(data)
    if len(data) < 4 or data[:4] != MAGIC:
        raise ValueError("data is not an inr codec file (no INRC magic)")
    if len(data) < 12:
        raise ValueError("data is truncated: shorter than the smallest file")
    body, (crc,) = data[:-4], struct.unpack("<I", data[-4:])
    version = data[4]
    if version != VERSION:
        raise ValueError(f"data is a version {version} file; this library reads version {VERSION}")
    if zlib.crc32(body) != crc:
        raise ValueError("data is corrupt or truncated: its checksum does not match")
    (size,) = struct.unpack("<H", body[5:7])
    header = _header_dict(body[7 : 7 + size])
    at, sections = 7 + size, []
    count = body[at] if at < len(body) else 0
    at += 1
    for _ in range(count):
        if at + 4 > len(body):
            raise ValueError("data is truncated inside its sections")
        (length,) = struct.unpack("<I", body[at : at + 4])
        sections.append(body[at + 4 : at + 4 + length])
        at += 4 + length
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
