"""Resource quantities (``500m``, ``1.5Gi``, ``1e3``) with Kubernetes' exact semantics.

CPU and memory requests are summed by the scheduler and compared against node capacity
by the kubelet; a float would make ``0.1 + 0.2`` CPUs differ from ``300m`` and let a pod
that fits be refused. So a quantity is an exact ``Decimal``, never a float.

Parsing follows ``resource.ParseQuantity`` (apimachinery/pkg/api/resource): every value
is rounded away from zero to a whole number of nano-units, binary-suffixed values are
capped at 2^63-1, and the *format* the user chose (decimal SI, binary SI or decimal
exponent) is remembered because it decides how the value is printed back.
``str(q)`` is the canonical form Kubernetes' ``Quantity.String()`` emits (``1.5`` ->
``1500m``, ``0.5Gi`` -> ``512Mi``); ``q.original`` is the text as written, because the
API server stores and returns what the user sent.
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final


class Format(StrEnum):
    """How a quantity prints, taken from the suffix it was written with."""

    DECIMAL_SI = "DecimalSI"  # 12M = 12 * 10^6
    BINARY_SI = "BinarySI"  # 12Mi = 12 * 2^20
    DECIMAL_EXPONENT = "DecimalExponent"  # 12e6


SPLIT_RE: Final = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
FORMAT_WRONG: Final = f"quantities must match the regular expression '{SPLIT_RE}'"
NUMERIC_WRONG: Final = "unable to parse numeric part of quantity"
SUFFIX_WRONG: Final = "unable to parse quantity's suffix"


class QuantityError(ValueError):
    """Text that is not a quantity; ``str(err)`` is Kubernetes' own message."""


_DECIMAL_SUFFIXES: Final = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
_BINARY_SUFFIXES: Final = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXPONENT: Final = {exp: suffix for suffix, exp in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_POWER: Final = {0: "", **{exp // 10: suffix for suffix, exp in _BINARY_SUFFIXES.items()}}

# The number and the suffix, as Kubernetes' scanner splits them: a sign, digits, an
# optional fraction, then suffix letters with an optional signed exponent.
_SCAN: Final = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*[-+]?[0-9]*)")
_EXPONENT: Final = re.compile(r"[+-]?[0-9]+")
_INT32_MAX: Final = 2**31 - 1

# Enough precision that adding or subtracting two quantities is never rounded.
_EXACT: Final = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
_NANO: Final = Decimal("1e-9")
_MAX_BINARY: Final = Decimal(2**63 - 1)
# Past this many digits the binary form is not attempted; only arithmetic on absurd
# values gets here, and converting them to int would be slow for nothing.
_BINARY_DIGITS_LIMIT: Final = 1000


def _interpret(suffix: str) -> tuple[int, int, Format] | None:
    """(base, exponent, format) of a suffix, or None when it is not one."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], Format.DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], Format.BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE" and _EXPONENT.fullmatch(suffix[1:]):
        exponent = int(suffix[1:])
        # Kubernetes stores the exponent in an int32 that it later negates.
        if -_INT32_MAX <= exponent <= _INT32_MAX:
            return 10, exponent, Format.DECIMAL_EXPONENT
    return None


def _parse(text: str) -> tuple[Decimal, Format]:
    if not text:
        raise QuantityError(FORMAT_WRONG)
    match = _SCAN.fullmatch(text)
    if match is None:
        raise QuantityError(FORMAT_WRONG)
    sign, whole, fraction, suffix = match.group(1), match.group(2), match.group(3) or "", match.group(4)
    interpreted = _interpret(suffix)
    if interpreted is None:
        raise QuantityError(SUFFIX_WRONG)
    base, exponent, fmt = interpreted

    if not whole and not fraction:
        # Kubernetes reads a missing number ("m", "-", ".") as zero, except where its
        # slow path hands the empty text to the decimal parser, which refuses it.
        if (base == 2 and exponent >= 50) or (base == 10 and exponent < -9):
            raise QuantityError(NUMERIC_WRONG)
        return Decimal(0), fmt

    amount = Decimal(f"{sign}{whole or '0'}.{fraction or '0'}")
    if base == 10:
        amount = amount.scaleb(exponent, _EXACT)
    else:
        amount = _EXACT.multiply(amount, Decimal(2**exponent))
    exp = amount.as_tuple().exponent
    if isinstance(exp, int) and exp < -9:
        # Asking for a sliver of a resource gets the smallest amount, never nothing.
        amount = amount.quantize(_NANO, rounding=decimal.ROUND_UP, context=_EXACT)
    if fmt is Format.BINARY_SI:
        if amount.copy_abs() > _MAX_BINARY:
            amount = _MAX_BINARY.copy_sign(amount)
        if 0 < amount.copy_abs() < 1:
            fmt = Format.DECIMAL_SI
    return amount, fmt


def _binary_text(amount: Decimal) -> str | None:
    """``512Mi`` for a whole ``amount`` of at least 1Ki; None past the ``Ei`` suffix."""
    if amount.adjusted() > _BINARY_DIGITS_LIMIT:
        return None
    magnitude, power = abs(int(amount)), 0
    while magnitude % 1024 == 0:
        magnitude //= 1024
        power += 1
    if power not in _BINARY_BY_POWER:
        return None
    return f"{'-' if amount < 0 else ''}{magnitude}{_BINARY_BY_POWER[power]}"


def _canonical(amount: Decimal, fmt: Format) -> str:
    """Kubernetes' ``CanonicalizeBytes``: no fraction digits, the largest exponent that loses nothing."""
    if amount.is_zero():
        return "0"
    if fmt is Format.BINARY_SI:
        if amount.copy_abs() < 1024 or amount != amount.to_integral_value(context=_EXACT):
            fmt = Format.DECIMAL_SI  # binary would round a fraction away; small values read better
        else:
            text = _binary_text(amount)
            if text is not None:
                return text
            fmt = Format.DECIMAL_EXPONENT  # past Ei: keep the magnitude in exponent form
    negative, digit_tuple, exp = amount.as_tuple()
    assert isinstance(exp, int)
    digits = "".join(map(str, digit_tuple))
    stripped = digits.rstrip("0")
    exp += len(digits) - len(stripped)
    # Lower the exponent to a multiple of three, so that it has an SI suffix.
    shift = exp % 3
    mantissa = ("-" if negative else "") + stripped + "0" * shift
    exp -= shift
    if fmt is Format.DECIMAL_SI and exp in _DECIMAL_BY_EXPONENT:
        return mantissa + _DECIMAL_BY_EXPONENT[exp]
    # Decimal SI has no suffix past E (1e18): the exponent form keeps the magnitude.
    return mantissa if exp == 0 else f"{mantissa}e{exp}"


class Quantity:
    """An exact, immutable resource amount. Equality and ordering are by value, whatever
    the format; ``hash`` agrees with equality."""

    __slots__ = ("_amount", "_format", "_original")

    _amount: Decimal
    _format: Format
    _original: str

    def __init__(self, value: str | int | float | Quantity = 0) -> None:
        if isinstance(value, Quantity):
            amount, fmt, text = value._amount, value._format, value._original
        elif isinstance(value, bool):
            raise TypeError("a quantity cannot be made from a bool")
        elif isinstance(value, str | int | float):
            # A number is read as its JSON text would be: 1.5 as "1.5", 1e16 as "1e+16".
            text = value if isinstance(value, str) else repr(value)
            amount, fmt = _parse(text)
        else:
            raise TypeError(f"a quantity cannot be made from {type(value).__name__}")
        object.__setattr__(self, "_amount", amount)
        object.__setattr__(self, "_format", fmt)
        object.__setattr__(self, "_original", text)

    @classmethod
    def parse(cls, text: str) -> Quantity:
        """``resource.ParseQuantity``: raises ``QuantityError`` with Kubernetes' message."""
        if not isinstance(text, str):
            raise TypeError(f"expected str, got {type(text).__name__}")
        return cls(text)

    @classmethod
    def _of(cls, amount: Decimal, fmt: Format) -> Quantity:
        out = cls.__new__(cls)
        object.__setattr__(out, "_amount", amount)
        object.__setattr__(out, "_format", fmt)
        object.__setattr__(out, "_original", _canonical(amount, fmt))
        return out

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Quantity is immutable")

    @property
    def format(self) -> Format:
        return self._format

    @property
    def original(self) -> str:
        """The text this quantity was parsed from (the canonical form for computed ones)."""
        return self._original

    def as_decimal(self) -> Decimal:
        return self._amount

    def as_float(self) -> float:
        """An approximation for display and scoring, never for comparisons."""
        return float(self._amount)

    def value(self) -> int:
        """``Value()``: the whole amount, rounded away from zero (``1500m`` -> 2)."""
        return int(self._amount.to_integral_value(rounding=decimal.ROUND_UP, context=_EXACT))

    def milli_value(self) -> int:
        """``MilliValue()``: the amount in thousandths, rounded away from zero."""
        milli = self._amount.scaleb(3, _EXACT)
        return int(milli.to_integral_value(rounding=decimal.ROUND_UP, context=_EXACT))

    def is_zero(self) -> bool:
        return self._amount.is_zero()

    def __bool__(self) -> bool:
        return not self._amount.is_zero()

    def __str__(self) -> str:
        return _canonical(self._amount, self._format)

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    def __hash__(self) -> int:
        return hash(self._amount)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._amount == other._amount

    def __lt__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._amount < other._amount

    def __le__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._amount <= other._amount

    def __gt__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._amount > other._amount

    def __ge__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._amount >= other._amount

    def _result_format(self, other: Quantity) -> Format:
        # As Quantity.Add/Sub: a zero takes on the other operand's format, so that
        # summing requests from zero prints "1Gi", not "1073741824".
        return other._format if self._amount.is_zero() else self._format

    def __add__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return Quantity._of(_EXACT.add(self._amount, other._amount), self._result_format(other))

    def __sub__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return Quantity._of(_EXACT.subtract(self._amount, other._amount), self._result_format(other))

    def __neg__(self) -> Quantity:
        return Quantity._of(_EXACT.minus(self._amount), self._format)
