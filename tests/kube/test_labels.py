"""kube.labels against apimachinery's labels.Parse, NewRequirement and label validation."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kube.errors import BadRequest, FieldErrorType
from kube.labels import (
    TOTAL_ANNOTATION_SIZE_LIMIT,
    Operator,
    Requirement,
    Selector,
    from_label_selector,
    parse,
    validate_annotations,
    validate_label_selector,
    validate_labels,
)

NAME_PART = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def bad(text: str) -> str:
    with pytest.raises(BadRequest) as caught:
        parse(text)
    assert caught.value.code == 400
    return caught.value.message


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", ""),
        ("x=a", "x=a"),
        ("x==a", "x==a"),
        ("x!=a", "x!=a"),
        ("x=a,y=b,z=c", "x=a,y=b,z=c"),
        ("z=c,y=b,x=a", "x=a,y=b,z=c"),  # sorted by key
        ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
        ("x in (b,a)", "x in (a,b)"),
        ("x notin (a)", "x notin (a)"),
        ("x in (a,)", "x in (,a)"),
        ("x", "x"),
        ("!x", "!x"),
        ("x>1", "x>1"),
        ("x<1", "x<1"),
        ("  x  =  a  ,  !y  ", "x=a,!y"),  # by key, not by text
        ("\tx\n=\ra", "x=a"),
        ("x=", "x="),
        ("x=,z=", "x=,z="),
        ("x in (in,notin)", "x in (in,notin)"),  # keywords are values where values go
        ("x==in", "x==in"),
        ("example.com/app=web", "example.com/app=web"),
        ("x in (a,a)", "x in (a)"),
    ],
)
def test_parse_and_print_canonically(text: str, canonical: str) -> None:
    selector = parse(text)
    assert str(selector) == canonical
    assert str(parse(str(selector))) == canonical


def test_requirements_carry_key_operator_and_sorted_values() -> None:
    selector = parse("b in (z,y), a!=1, !c, d, e>5")
    assert selector.requirements == (
        Requirement("a", Operator.NOT_EQUALS, ("1",)),
        Requirement("b", Operator.IN, ("y", "z")),
        Requirement("c", Operator.DOES_NOT_EXIST, ()),
        Requirement("d", Operator.EXISTS, ()),
        Requirement("e", Operator.GREATER_THAN, ("5",)),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x=a||y=b", f'unable to parse requirement: values[0][x]: Invalid value: "a||y": {LABEL_VALUE}'),
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("x in a", "unable to parse requirement: found 'a' expected: '('"),
        ("x in (a", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"),
        ("x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
        ("x in =", "unable to parse requirement: found '=' expected: '('"),
        ("x in (=", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
        ("x=(", "unable to parse requirement: found '(', expected: identifier"),
        ("!!x", "unable to parse requirement: found '!', expected: identifier"),
        (
            "x>a",
            'unable to parse requirement: values[0]: Invalid value: "a": '
            "for 'Gt', 'Lt' operators, the value must be an integer",
        ),
        (
            "x>1.5",
            'unable to parse requirement: values[0]: Invalid value: "1.5": '
            "for 'Gt', 'Lt' operators, the value must be an integer",
        ),
        ("x,", "found '', expected: identifier after ','"),
        (",x", "found ',', expected: !, identifier, or 'end of string'"),
        ("=a", "found '=', expected: !, identifier, or 'end of string'"),
        ("x=a=b", "found '=', expected: ',' or 'end of string'"),
        ("x=a b", "found 'b', expected: ',' or 'end of string'"),
        ("!x=a", "found '=', expected: ',' or 'end of string'"),
        ("app:monolith", f'unable to parse requirement: <nil>: Invalid value: "app:monolith": {NAME_PART}'),
        ("*bar", f'unable to parse requirement: <nil>: Invalid value: "*bar": {NAME_PART}'),
    ],
)
def test_parse_errors_use_kubernetes_wording(text: str, message: str) -> None:
    assert bad(text) == message


def test_several_bad_values_are_reported_together() -> None:
    assert bad("x in (-a,-b)") == (
        f'unable to parse requirement: [values[0][x]: Invalid value: "-a": {LABEL_VALUE}, '
        f'values[1][x]: Invalid value: "-b": {LABEL_VALUE}]'
    )


def test_key_with_too_many_slashes_gets_the_qualified_name_message() -> None:
    assert bad("a/b/c ?=? def") == (
        'unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name must consist of '
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character "
        "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' "
        "(e.g. 'example.com/MyName')"
    )


def test_long_value_reports_length_and_pattern() -> None:
    value = "v" * 64
    assert bad(f"x={value}") == (
        f'unable to parse requirement: values[0][x]: Invalid value: "{value}": '
        "must be no more than 63 characters"
    )


@pytest.mark.parametrize(
    ("text", "labels", "matched"),
    [
        ("", {"x": "y"}, True),
        ("x=y", {"x": "y"}, True),
        ("x=y", {"x": "z"}, False),
        ("x=y", {}, False),
        ("x==y", {"x": "y"}, True),
        ("x!=y", {"x": "z"}, True),
        ("x!=y", {}, True),
        ("x!=y", {"x": "y"}, False),
        ("x in (a,b)", {"x": "b"}, True),
        ("x in (a,b)", {"x": "c"}, False),
        ("x in (a,b)", {}, False),
        ("x notin (a,b)", {"x": "c"}, True),
        ("x notin (a,b)", {}, True),
        ("x notin (a,b)", {"x": "a"}, False),
        ("x", {"x": ""}, True),
        ("x", {"y": "1"}, False),
        ("!x", {"y": "1"}, True),
        ("!x", {"x": ""}, False),
        ("x=", {"x": ""}, True),
        ("x=", {}, False),
        ("x in ()", {"x": ""}, True),
        ("x>5", {"x": "6"}, True),
        ("x>5", {"x": "5"}, False),
        ("x>5", {"x": "10"}, True),  # numerically, not as text
        ("x>5", {"x": "a"}, False),
        ("x>5", {}, False),
        ("x<5", {"x": "-1"}, True),
        ("x<5", {"x": "5"}, False),
        ("x=a,y=b", {"x": "a", "y": "b", "z": "c"}, True),
        ("x=a,y=b", {"x": "a"}, False),
        ("app=web,tier in (fe,be),!canary", {"app": "web", "tier": "fe"}, True),
        ("app=web,tier in (fe,be),!canary", {"app": "web", "tier": "fe", "canary": "1"}, False),
    ],
)
def test_matches(text: str, labels: dict[str, str], matched: bool) -> None:
    assert parse(text).matches(labels) is matched


def test_everything_nothing_and_empty() -> None:
    assert parse("").empty and Selector.everything().empty
    assert parse("").matches({}) and parse("").matches(None)
    nothing = Selector.nothing()
    assert not nothing.empty and nothing.is_nothing
    assert not nothing.matches({}) and not nothing.matches({"a": "b"})
    assert str(nothing) == "" and nothing.requirements == ()
    assert not parse("a").empty


def test_exact_value_for_index_lookups() -> None:
    assert parse("a=1,b!=2").exact("a") == "1"
    assert parse("a==1").exact("a") == "1"
    assert parse("a in (1)").exact("a") == "1"
    assert parse("a in (1,2)").exact("a") is None
    assert parse("a!=1").exact("a") is None
    assert parse("a").exact("a") is None
    assert parse("b=1").exact("a") is None


def test_selectors_are_immutable_values() -> None:
    selector = parse("b=2,a=1")
    with pytest.raises(AttributeError):
        selector.requirements = ()  # type: ignore[misc]
    assert selector == parse("a=1,b=2")
    assert hash(selector) == hash(parse("a=1,b=2"))


def test_from_set() -> None:
    selector = Selector.from_set({"b": "2", "a": "1"})
    assert str(selector) == "a=1,b=2"
    assert selector.matches({"a": "1", "b": "2", "c": "3"})
    assert Selector.from_set({}).empty


def test_requirement_new_validates_like_new_requirement() -> None:
    assert Requirement.new("a", "in", ["x"]) == Requirement("a", Operator.IN, ("x",))
    cases = {
        (
            "a",
            Operator.IN,
            (),
        ): "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty",
        ("a", Operator.EQUALS, ("x", "y")): (
            'values: Invalid value: ["x","y"]: exact-match compatibility requires one single value'
        ),
        ("a", Operator.EXISTS, ("x",)): (
            'values: Invalid value: ["x"]: values set must be empty for exists and does not exist'
        ),
        ("a", Operator.GREATER_THAN, ("1", "2")): (
            "values: Invalid value: [\"1\",\"2\"]: for 'Gt', 'Lt' operators, exactly one value is required"
        ),
        ("a", "like", ("x",)): (
            'operator: Unsupported value: "like": supported values: "in", "notin", "=", "==", "!=", "gt", "lt", '
            '"exists", "!"'
        ),
        ("a b", Operator.EXISTS, ()): f'key: Invalid value: "a b": {NAME_PART}',
    }
    for (key, op, values), message in cases.items():
        with pytest.raises(BadRequest) as caught:
            Requirement.new(key, op, values)
        assert caught.value.message == message


def test_from_label_selector() -> None:
    assert from_label_selector(None).is_nothing
    assert from_label_selector({}).empty
    assert from_label_selector({"matchLabels": {}, "matchExpressions": []}).empty
    selector = from_label_selector(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["fe", "be"]},
                {"key": "env", "operator": "NotIn", "values": ["dev"]},
                {"key": "owner", "operator": "Exists"},
                {"key": "canary", "operator": "DoesNotExist"},
            ],
        }
    )
    assert str(selector) == "app=web,!canary,env notin (dev),owner,tier in (be,fe)"
    assert selector.matches({"app": "web", "tier": "be", "owner": "x"})
    assert not selector.matches({"app": "web", "tier": "be", "owner": "x", "env": "dev"})


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        (
            {"matchExpressions": [{"key": "a", "operator": "Foo"}]},
            '"Foo" is not a valid label selector operator',
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "In"}]},
            "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            'values: Invalid value: ["x"]: values set must be empty for exists and does not exist',
        ),
        ({"matchLabels": {"a": "-x"}}, f'values[0][a]: Invalid value: "-x": {LABEL_VALUE}'),
        ({"matchLabels": {"a b": "x"}}, f'key: Invalid value: "a b": {NAME_PART}'),
    ],
)
def test_from_label_selector_errors(selector: dict[str, object], message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        from_label_selector(selector)
    assert caught.value.message == message


def test_validate_label_selector_field_errors() -> None:
    errors = validate_label_selector(
        {
            "matchLabels": {"ok": "-bad"},
            "matchExpressions": [
                {"key": "a", "operator": "In", "values": []},
                {"key": "b", "operator": "Exists", "values": ["x"]},
                {"key": "c", "operator": "Like"},
                {"key": "-d", "operator": "NotIn", "values": ["ok", "-no"]},
            ],
        },
        "spec.selector",
    )
    assert [str(e) for e in errors] == [
        f'spec.selector.matchLabels: Invalid value: "-bad": {LABEL_VALUE}',
        "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' "
        "or 'NotIn'",
        "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' "
        "or 'DoesNotExist'",
        'spec.selector.matchExpressions[2].operator: Invalid value: "Like": not a valid selector operator',
        f'spec.selector.matchExpressions[3].key: Invalid value: "-d": {NAME_PART}',
        f'spec.selector.matchExpressions[3].values[1]: Invalid value: "-no": {LABEL_VALUE}',
    ]
    assert errors[1].type == FieldErrorType.REQUIRED
    assert validate_label_selector(None, "spec.selector") == []
    assert validate_label_selector({"matchLabels": {"a": "b"}}, "spec.selector") == []


def test_validate_labels() -> None:
    assert (
        validate_labels({"app": "web", "example.com/tier": "", "a.b_c-d": "X.y_z-1"}, "metadata.labels") == []
    )
    assert validate_labels(None, "metadata.labels") == []
    errors = validate_labels({"a/b/c": "ok", "k": "v" * 64, "/x": "ok"}, "metadata.labels")
    assert [str(e) for e in errors] == [
        'metadata.labels: Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, '
        "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
        "'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') "
        "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        f'metadata.labels: Invalid value: "{"v" * 64}": must be no more than 63 characters',
        'metadata.labels: Invalid value: "/x": prefix part must be non-empty',
    ]


def test_validate_labels_reports_a_bad_label_every_time() -> None:
    # Valid keys and values are remembered; invalid ones never are.
    for _ in range(2):
        assert validate_labels({"app": "web"}, "metadata.labels") == []
        errors = validate_labels({"app": "-web", "-app": "web"}, "spec.template.metadata.labels")
        assert [str(e).split(": ")[:3] for e in errors] == [
            ["spec.template.metadata.labels", "Invalid value", '"-web"'],
            ["spec.template.metadata.labels", "Invalid value", '"-app"'],
        ]


def test_validate_annotations() -> None:
    assert (
        validate_annotations({"Example.COM/Key": "any value at all, even spaces"}, "metadata.annotations")
        == []
    )
    errors = validate_annotations({"bad key": "x"}, "metadata.annotations")
    assert [str(e) for e in errors] == [f'metadata.annotations: Invalid value: "bad key": {NAME_PART}']
    exactly = {"k": "v" * (TOTAL_ANNOTATION_SIZE_LIMIT - 1)}
    assert validate_annotations(exactly, "metadata.annotations") == []
    over = {"k": "v" * TOTAL_ANNOTATION_SIZE_LIMIT}
    assert [str(e) for e in validate_annotations(over, "metadata.annotations")] == [
        "metadata.annotations: Too long: must have at most 262144 bytes"
    ]
    # The limit counts bytes, not characters.
    wide = {"k": "é" * (TOTAL_ANNOTATION_SIZE_LIMIT // 2)}
    assert len(validate_annotations(wide, "metadata.annotations")) == 1


_KEYS = st.sampled_from(["a", "b", "app", "example.com/tier"])
_VALUES = st.sampled_from(["", "x", "y", "1", "20"])


@st.composite
def requirement_texts(draw: st.DrawFn) -> str:
    key = draw(_KEYS)
    kind = draw(st.sampled_from(["=", "==", "!=", "in", "notin", "exists", "!", ">", "<"]))
    if kind in ("in", "notin"):
        return f"{key} {kind} ({','.join(draw(st.lists(_VALUES, min_size=1, max_size=3)))})"
    if kind == "exists":
        return key
    if kind == "!":
        return "!" + key
    if kind in (">", "<"):
        return f"{key}{kind}{draw(st.integers(0, 30))}"
    return f"{key}{kind}{draw(_VALUES)}"


@settings(max_examples=80, deadline=None)
@given(st.lists(requirement_texts(), max_size=4), st.dictionaries(_KEYS, _VALUES, max_size=4))
def test_canonical_string_selects_the_same_objects(parts: list[str], labels: dict[str, str]) -> None:
    selector = parse(",".join(parts))
    again = parse(str(selector))
    assert str(again) == str(selector)
    assert again.matches(labels) == selector.matches(labels)
    assert selector.matches(labels) == all(parse(p).matches(labels) for p in parts)
