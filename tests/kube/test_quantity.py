"""kube.quantity against the semantics of Kubernetes' resource.Quantity (quantity_test.go)."""

from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kube.quantity import FORMAT_WRONG, NUMERIC_WRONG, SUFFIX_WRONG, Format, Quantity, QuantityError

D, B, X = Format.DECIMAL_SI, Format.BINARY_SI, Format.DECIMAL_EXPONENT


@pytest.mark.parametrize(
    ("text", "value", "fmt"),
    [
        ("0", "0", D),
        ("0n", "0", D),
        ("0Ki", "0", B),
        ("1", "1", D),
        # every binary suffix
        ("1Ki", "1024", B),
        ("7Mi", str(7 * 2**20), B),
        ("6Gi", str(6 * 2**30), B),
        ("5Ti", str(5 * 2**40), B),
        ("4Pi", str(4 * 2**50), B),
        ("3Ei", str(3 * 2**60), B),
        # every decimal suffix
        ("5n", "5e-9", D),
        ("4u", "4e-6", D),
        ("3m", "0.003", D),
        ("8k", "8000", D),
        ("7M", "7e6", D),
        ("6G", "6e9", D),
        ("5T", "5e12", D),
        ("2P", "2e15", D),
        ("1E", "1e18", D),
        # decimal exponents, either case, signed
        ("1E-3", "0.001", X),
        ("1e3", "1000", X),
        ("1.3E+6", "1.3e6", X),
        ("1.7E18", "1.7e18", X),
        ("0.5e-2", "0.005", X),
        # things that look like floating point
        ("0.0005k", "0.5", D),
        ("100.035k", "100035", D),
        ("6.987654321G", "6987654321", D),
        ("1.01E", "1.01e18", D),
        # signs
        ("-1.5", "-1.5", D),
        ("+1.5", "1.5", D),
        # sub-nano amounts round up (away from zero) to the next nano
        ("3.001n", "4e-9", D),
        ("1.1E-9", "2e-9", X),
        ("0.0000000001", "1e-9", D),
        ("0.00000012345", "124e-9", D),
        ("-0.1n", "-1e-9", D),
        # binary values are capped at 2^63-1
        ("9Ei", str(2**63 - 1), B),
        ("9223372036854775807Ki", str(2**63 - 1), B),
        ("-9Ei", str(-(2**63 - 1)), B),
        # decimal values are not capped
        ("12E", "1.2e19", D),
        # fractional binary values; below one they become decimal
        ("100.035Ki", "102435.84", B),
        ("0.5Mi", "524288", B),
        ("0.000000000001Ki", "2e-9", D),
        # written by trolls, accepted by Kubernetes
        (".001", "0.001", D),
        ("1.", "1", D),
        ("1.G", "1e9", D),
        ("m", "0", D),
        ("Ki", "0", B),
        ("-", "0", D),
        (".", "0", D),
    ],
)
def test_parse_value_and_format(text: str, value: str, fmt: Format) -> None:
    q = Quantity.parse(text)
    assert q.as_decimal() == Decimal(value)
    assert q.format is fmt
    assert q.original == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", FORMAT_WRONG),
        (" 1", FORMAT_WRONG),
        ("1 ", FORMAT_WRONG),
        ("1.1.M", FORMAT_WRONG),
        ("1+1.0M", FORMAT_WRONG),
        ("aoeu", FORMAT_WRONG),
        ("1KiB", FORMAT_WRONG),
        ("0.1mi", SUFFIX_WRONG),
        ("0.1am", FORMAT_WRONG),
        (".5i", SUFFIX_WRONG),
        ("1i", SUFFIX_WRONG),
        ("1K", SUFFIX_WRONG),
        ("1e", SUFFIX_WRONG),
        ("-3.01e-", SUFFIX_WRONG),
        ("1e4294967297", SUFFIX_WRONG),  # past int32: refused, not truncated
        ("Pi", NUMERIC_WRONG),  # Kubernetes' slow path refuses an empty number
        (".e-20", NUMERIC_WRONG),
    ],
)
def test_invalid_text_gets_kubernetes_message(text: str, message: str) -> None:
    with pytest.raises(QuantityError) as caught:
        Quantity.parse(text)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_format_wrong_message_is_kubernetes_wording() -> None:
    assert FORMAT_WRONG == (
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )
    assert NUMERIC_WRONG == "unable to parse numeric part of quantity"
    assert SUFFIX_WRONG == "unable to parse quantity's suffix"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1.5", "1500m"),
        ("1000m", "1"),
        ("1024Ki", "1Mi"),
        ("0.5Gi", "512Mi"),
        ("1.5Gi", "1536Mi"),
        ("1e3", "1e3"),
        ("1.5e3", "1500"),
        ("1.5E-3", "1500e-6"),
        ("1000M", "1G"),
        ("0.001T", "1G"),
        ("1080m", "1080m"),
        ("1.08", "1080m"),
        ("50k", "50k"),
        ("300M", "300M"),
        ("1000000000", "1G"),
        ("1000u", "1m"),
        ("1080000000n", "1080m"),
        (".001Ki", "1024m"),
        (".000001Ki", "1024u"),
        (".000000001Ki", "1024n"),
        (".000000000001Ki", "2n"),
        ("307200Ki", "300Mi"),
        ("1025024Mi", "1001Gi"),
        ("1024Gi", "1Ti"),
        ("5", "5"),
        ("1.1Ki", "1126400m"),  # binary would round: shown as decimal
        ("1025", "1025"),
        ("9Ei", "9223372036854775807"),
        ("1000E", "1e21"),  # no decimal suffix past E: exponent form keeps the magnitude
        ("5000E", "5e21"),
        ("1E", "1E"),
        ("0.001e12", "1e9"),
        ("1000e-12", "1e-9"),
        ("0.001e0", "1e-3"),
        ("00", "0"),
        ("0Gi", "0"),
        ("-1Gi", "-1Gi"),
        ("-1.5", "-1500m"),
        ("-.001Ki", "-1024m"),
        ("+1", "1"),
        ("1e2147483647", "10e2147483646"),
        ("1e-2147483647", "1e-9"),
    ],
)
def test_canonical_form(text: str, canonical: str) -> None:
    q = Quantity(text)
    assert str(q) == canonical
    assert q.original == text


def test_constructor_accepts_numbers_as_their_json_text() -> None:
    assert str(Quantity(2)) == "2" and Quantity(2).format is D
    assert str(Quantity(1.5)) == "1500m"
    assert Quantity(1.5).original == "1.5"
    assert str(Quantity(1e16)) == "10e15" and Quantity(1e16).format is X
    assert str(Quantity(10**20)) == "100E"
    assert Quantity(Quantity("1Gi")).original == "1Gi"
    assert str(Quantity()) == "0"
    with pytest.raises(QuantityError):
        Quantity(float("nan"))
    with pytest.raises(TypeError):
        Quantity(True)
    with pytest.raises(TypeError):
        Quantity.parse(5)  # type: ignore[arg-type]


def test_comparison_is_by_value_whatever_the_format() -> None:
    assert Quantity("1Ki") == Quantity("1024")
    assert Quantity("1k") == Quantity("1e3") == Quantity("1000000m")
    assert Quantity("10000T") > Quantity("100Gi")
    assert Quantity("100m") > Quantity("50m")
    assert Quantity("50m") < Quantity("100m") <= Quantity("0.1")
    assert Quantity("1Gi") >= Quantity("1Gi")
    assert Quantity("-1") < Quantity("0") < Quantity("1n")
    assert Quantity("1") != Quantity("1001m")
    assert Quantity("1") != "1"
    assert hash(Quantity("1Ki")) == hash(Quantity("1024")) == hash(Quantity("1.024k"))
    assert len({Quantity("1"), Quantity("1000m"), Quantity("1e0")}) == 1
    assert sorted([Quantity("1Gi"), Quantity("1G"), Quantity("1500m")]) == [
        Quantity("1500m"),
        Quantity("1G"),
        Quantity("1Gi"),
    ]


def test_arithmetic_is_exact_and_keeps_the_left_format() -> None:
    assert Quantity("0.1") + Quantity("0.2") == Quantity("300m")
    assert str(Quantity("1Gi") + Quantity("512Mi")) == "1536Mi"
    assert str(Quantity("1") + Quantity("1Ki")) == "1025"
    assert str(Quantity("2") - Quantity("500m")) == "1500m"
    assert str(Quantity("1Ei") + Quantity("1Ei")) == "2Ei"
    assert str(-Quantity("9.01")) == "-9010m"
    assert (Quantity("1") - Quantity("1")).is_zero()
    # A zero takes the other side's format, so a sum started from zero prints nicely.
    for text in ("100m", "1Gi"):
        assert str(Quantity("0") + Quantity(text)) == text
        assert str(Quantity(text) + Quantity("0")) == text
        assert str(Quantity(text) - Quantity("0")) == text
        assert str(Quantity("0") - Quantity(text)) == "-" + text
    # Arithmetic is not capped, and past Ei binary falls back to an exact decimal form.
    two_to_70 = Quantity("1Ei")
    for _ in range(10):
        two_to_70 = two_to_70 + two_to_70
    assert str(two_to_70) == "1180591620717411303424"
    assert Quantity(str(two_to_70)) == two_to_70
    assert (Quantity("1Gi") + Quantity("1")).original == "1073741825"


def test_rounded_values() -> None:
    assert Quantity("1500m").value() == 2
    assert Quantity("-1500m").value() == -2  # away from zero
    assert Quantity("2").value() == 2
    assert Quantity("1n").value() == 1
    assert Quantity("1Gi").value() == 2**30
    assert Quantity("1.5").milli_value() == 1500
    assert Quantity("1n").milli_value() == 1
    assert Quantity("-1n").milli_value() == -1
    assert Quantity("250m").milli_value() == 250
    assert Quantity("1.0001m").milli_value() == 2
    assert Quantity("1.5Gi").as_float() == 1.5 * 2**30
    assert Quantity("100m").as_float() == 0.1
    assert not Quantity("0m") and Quantity("1n")


def test_quantities_are_immutable() -> None:
    q = Quantity("1")
    with pytest.raises(AttributeError):
        q._amount = Decimal(2)
    assert repr(Quantity("1.5")) == "Quantity('1500m')"


# --- properties ----------------------------------------------------------------------

_SUFFIXES = ["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]


@st.composite
def quantity_texts(draw: st.DrawFn) -> str:
    sign = draw(st.sampled_from(["", "-", "+"]))
    whole = draw(st.text("0123456789", min_size=1, max_size=12))
    fraction = draw(
        st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=12).map(lambda d: "." + d))
    )
    suffix = draw(
        st.one_of(
            st.sampled_from(_SUFFIXES),
            st.integers(-30, 30).map(lambda e: f"e{e}"),
            st.integers(-30, 30).map(lambda e: f"E{e:+d}"),
        )
    )
    return f"{sign}{whole}{fraction}{suffix}"


quantities = quantity_texts().map(Quantity)
_FAST = settings(max_examples=80, deadline=None)


@_FAST
@given(quantities)
def test_canonical_text_parses_back_to_the_same_value(q: Quantity) -> None:
    again = Quantity(str(q))
    assert again == q
    assert str(again) == str(q)  # canonicalising is idempotent


@_FAST
@given(quantities)
def test_parsed_values_sit_on_the_nano_grid(q: Quantity) -> None:
    nanos = q.as_decimal().scaleb(9)
    assert nanos == nanos.to_integral_value()
    # milli_value rounds away from zero, so it never shrinks the magnitude.
    with localcontext() as exact:
        exact.prec = 200
        assert 0 <= abs(q.milli_value()) - q.as_decimal().scaleb(3).copy_abs() < 1


@_FAST
@given(quantities, quantities)
def test_ordering_agrees_with_the_exact_value(a: Quantity, b: Quantity) -> None:
    assert (a < b) == (a.as_decimal() < b.as_decimal())
    assert (a == b) == (a.as_decimal() == b.as_decimal())
    assert (a == b) <= (hash(a) == hash(b))


@_FAST
@given(quantities, quantities)
def test_adding_then_subtracting_gives_back_the_value(a: Quantity, b: Quantity) -> None:
    assert a + b - b == a
    assert a + b == b + a


_BINARY_NAMES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]


@_FAST
@given(st.integers(-(2**62), 2**62), st.integers(1, 3))
def test_binary_integers_print_with_the_largest_exact_suffix(n: int, power: int) -> None:
    cap = 2**63 - 1
    value = max(-cap, min(cap, n * 1024**power))
    if abs(value) < 1024:
        return  # printed as decimal; covered by the table above
    mantissa, exact_power = abs(value), 0
    while mantissa % 1024 == 0:
        mantissa //= 1024
        exact_power += 1
    expected = f"{'-' if value < 0 else ''}{mantissa}{_BINARY_NAMES[exact_power]}"
    assert str(Quantity(f"{n}{_BINARY_NAMES[power]}")) == expected
