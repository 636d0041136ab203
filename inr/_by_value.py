"""Static arguments of compiled programs, compared by what they compute.

``jax.jit`` caches a program per value of its static arguments, compared by
``==`` and ``hash``.  A Flax module or a frozen dataclass compares by its
fields, but a function compares by identity, so ``optax.adam(1e-3)``
written twice is two static arguments and two compilations, though both
run the same code on the same constants.  :class:`ByValue` wraps such an
object with a key built from its code and every value it closes over:

* a function: its code object, its globals' namespace, and the keys of its
  closure's contents, defaults and keyword defaults;
* ``functools.partial``, bound methods, tuples, lists, dicts and named
  tuples: the keys of their parts;
* an optax ``GradientTransformation`` held by another (``multi_transform``
  keeps its parts whole): its ``update`` alone, since its ``init`` only
  builds the state, which is data to the program;
* numbers, strings, ``None``, types, code objects and hashable
  dataclasses (frozen ones, Flax modules): themselves, compared by ``==``;
* NumPy and JAX arrays of at most :data:`LARGEST` elements: their dtype,
  shape and bytes.

Anything else (a mutable object, a large array) is keyed by identity, so
two objects share a program only when nothing they could differ in is
left out of their keys: the cache can miss where it need not, never hit
where it must not.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import types
from typing import Any

import numpy as np
import optax

__all__ = ["LARGEST", "ByValue", "value_key"]

LARGEST = 1 << 20
"""Arrays of at most this many elements are keyed by their contents."""

_ATOMS = (type(None), bool, int, float, complex, str, bytes, type, types.CodeType)


class _Identity:
    """The key of an object compared by identity: it holds the object, so the id stays its own."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __eq__(self, other):
        return isinstance(other, _Identity) and other.obj is self.obj

    def __hash__(self):
        return id(self.obj)


def _array_key(x) -> tuple | None:
    if not hasattr(x, "dtype") or not hasattr(x, "shape") or int(np.prod(x.shape)) > LARGEST:
        return None
    try:
        data = np.asarray(x)
    except Exception:  # a tracer, or an array that is not on this host
        return None
    digest = hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest()
    return ("array", str(data.dtype), data.shape, digest)


def _function_key(fn: types.FunctionType, seen: frozenset) -> tuple:
    cells = tuple(_key(c.cell_contents, seen) if _filled(c) else ("empty",)
                  for c in fn.__closure__ or ())  # fmt: skip
    kwdefaults = _key(fn.__kwdefaults__ or {}, seen)
    return ("function", fn.__code__, id(fn.__globals__), cells, _key(fn.__defaults__, seen),
            kwdefaults)  # fmt: skip


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:  # a closure variable not yet assigned
        return False
    return True


def _key(obj: Any, seen: frozenset) -> Any:
    if isinstance(obj, _ATOMS):
        return (type(obj), obj)
    if id(obj) in seen:  # a recursive closure refers to itself
        return ("cycle", id(obj))
    seen = seen | {id(obj)}
    if isinstance(obj, types.FunctionType):
        return _function_key(obj, seen)
    if isinstance(obj, types.MethodType):
        return ("method", _key(obj.__func__, seen), _key(obj.__self__, seen))
    if isinstance(obj, functools.partial):
        return ("partial", _key(obj.func, seen), _key(obj.args, seen),
                _key(obj.keywords, seen))  # fmt: skip
    if isinstance(obj, optax.GradientTransformation):
        return (type(obj), "update", _key(obj.update, seen))
    if isinstance(obj, tuple):  # named tuples too: the type tells them apart
        return (type(obj), tuple(_key(v, seen) for v in obj))
    if isinstance(obj, list):
        return (list, tuple(_key(v, seen) for v in obj))
    if isinstance(obj, dict):
        return (dict, tuple(sorted(((repr(k), _key(v, seen)) for k, v in obj.items()),
                                   key=lambda kv: kv[0])))  # fmt: skip
    array = _array_key(obj)
    if array is not None:
        return array
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        # A dataclass is hashable only if frozen or given a hash of its own
        # (a Flax module): either way its fields are its value.
        try:
            hash(obj)
            return (type(obj), obj)
        except TypeError:
            pass
    return _Identity(obj)


def value_key(obj: Any) -> Any:
    """A hashable key equal for objects that compute the same (the module docstring)."""
    return _key(obj, frozenset())


class ByValue:
    """``obj`` as a static argument: equal to any :class:`ByValue` of the same :func:`value_key`.

    Calling it calls ``obj``; ``value`` is the object itself.
    """

    __slots__ = ("_hash", "key", "value")

    def __init__(self, value: Any):
        self.value = value.value if isinstance(value, ByValue) else value
        self.key = value_key(self.value)
        self._hash = hash(self.key)

    def __call__(self, *args, **kwargs):
        return self.value(*args, **kwargs)

    def __eq__(self, other):
        return isinstance(other, ByValue) and self._hash == other._hash and self.key == other.key

    def __hash__(self):
        return self._hash

    def __repr__(self) -> str:
        return f"ByValue({self.value!r})"
