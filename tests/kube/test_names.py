"""kube.names: Kubernetes' name rules and their exact messages (util/validation)."""

import pytest

from kube.names import (
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    is_valid_port_num,
    max_len_error,
)

DNS1123_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1123_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1035_LABEL = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
NAME_PART = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
QUALIFIED_NAME = (
    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' "
    "(e.g. 'example.com/MyName')"
)
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


@pytest.mark.parametrize("value", ["a", "0", "my-name", "123-abc", "a" * 63, "a-1-b"])
def test_dns1123_label_valid(value: str) -> None:
    assert is_dns1123_label(value) == []


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("", [DNS1123_LABEL]),
        ("A", [DNS1123_LABEL]),
        ("-a", [DNS1123_LABEL]),
        ("a-", [DNS1123_LABEL]),
        ("a.b", [DNS1123_LABEL]),
        ("a_b", [DNS1123_LABEL]),
        ("a" * 64, ["must be no more than 63 characters"]),
        ("A" * 64, ["must be no more than 63 characters", DNS1123_LABEL]),
    ],
)
def test_dns1123_label_invalid(value: str, errors: list[str]) -> None:
    assert is_dns1123_label(value) == errors


@pytest.mark.parametrize("value", ["a", "example.com", "a.b-c.d", "0.0", ("a" * 63 + ".") * 3 + "a" * 61])
def test_dns1123_subdomain_valid(value: str) -> None:
    assert is_dns1123_subdomain(value) == []


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("", [DNS1123_SUBDOMAIN]),
        ("Example.com", [DNS1123_SUBDOMAIN]),
        ("a..b", [DNS1123_SUBDOMAIN]),
        (".a", [DNS1123_SUBDOMAIN]),
        ("a.", [DNS1123_SUBDOMAIN]),
        ("a_b", [DNS1123_SUBDOMAIN]),
        ("a" * 254, ["must be no more than 253 characters"]),
    ],
)
def test_dns1123_subdomain_invalid(value: str, errors: list[str]) -> None:
    assert is_dns1123_subdomain(value) == errors


def test_dns1035_label() -> None:
    assert is_dns1035_label("my-name") == []
    assert is_dns1035_label("abc-123") == []
    assert is_dns1035_label("1abc") == [DNS1035_LABEL]
    assert is_dns1035_label("") == [DNS1035_LABEL]
    assert is_dns1035_label("a" * 64) == ["must be no more than 63 characters"]


@pytest.mark.parametrize(
    "value",
    [
        "simple",
        "now-with-dashes",
        "1-starts-with-num",
        "1234",
        "simple/simple",
        "now-with-dashes/simple",
        "now-with-dashes/now-with-dashes",
        "now.with.dots/simple",
        "now-with.dashes-and.dots/simple",
        "1-num.2-num/3-num",
        "1234/5678",
        "1.2.3.4/5678",
        "Uppercase_Is_OK_123",
        "example.com/Uppercase_Is_OK_123",
        "requests.storage-foo",
        "a" * 63,
        "a" * 253 + "/a",
    ],
)
def test_qualified_name_valid(value: str) -> None:
    assert is_qualified_name(value) == []


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("nospecialchars%^=@", [NAME_PART]),
        ("cantendwithadash-", [NAME_PART]),
        ("-cantstartwithadash-", [NAME_PART]),
        ("only/one/slash", [QUALIFIED_NAME]),
        ("Example.com/abc", ["prefix part " + DNS1123_SUBDOMAIN]),
        ("example_com/abc", ["prefix part " + DNS1123_SUBDOMAIN]),
        ("example.com/", ["name part must be non-empty", NAME_PART]),
        ("/simple", ["prefix part must be non-empty"]),
        ("", ["name part must be non-empty", NAME_PART]),
        ("a" * 64, ["name part must be no more than 63 characters"]),
        ("a" * 254 + "/a", ["prefix part must be no more than 253 characters"]),
        ("*bar", [NAME_PART]),
    ],
)
def test_qualified_name_invalid(value: str, errors: list[str]) -> None:
    assert is_qualified_name(value) == errors


@pytest.mark.parametrize(
    "value",
    [
        "",
        "simple",
        "now-with-dashes",
        "1-starts-with-num",
        "end-with-num-1",
        "1234",
        "a" * 63,
        "Camel_Case.1",
    ],
)
def test_label_value_valid(value: str) -> None:
    assert is_valid_label_value(value) == []


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("nospecialchars%^=@", [LABEL_VALUE]),
        ("Tama-nui-te-rā.is.Māori.sun", [LABEL_VALUE]),
        ("\\backslashes\\are\\bad", [LABEL_VALUE]),
        ("-starts-with-dash", [LABEL_VALUE]),
        ("ends-with-dash-", [LABEL_VALUE]),
        (".starts.with.dot", [LABEL_VALUE]),
        ("a/b", [LABEL_VALUE]),
        ("a" * 64, ["must be no more than 63 characters"]),
    ],
)
def test_label_value_invalid(value: str, errors: list[str]) -> None:
    assert is_valid_label_value(value) == errors


def test_port_numbers() -> None:
    assert is_valid_port_num(1) == [] and is_valid_port_num(65535) == []
    assert is_valid_port_num(0) == ["must be between 1 and 65535, inclusive"]
    assert is_valid_port_num(65536) == ["must be between 1 and 65535, inclusive"]


def test_max_len_error() -> None:
    assert max_len_error(63) == "must be no more than 63 characters"
