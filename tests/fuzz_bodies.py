"""Request bodies a client can send, as Hypothesis strategies, for the fuzzing tests: tampered
valid forms, random fields with odd values (NUL, controls, huge text), raw and broken bodies."""

from typing import Any
from urllib.parse import urlencode

from django.test import RequestFactory
from hypothesis import strategies as st

# Any code point UTF-8 can carry (surrogates cannot): NUL and other controls, combining marks,
# bidirectional overrides, non-characters, emoji and other scripts' digits among them.
odd_text = st.text(st.characters(codec="utf-8"), max_size=30)
tricky_text = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "yes\x00",
        "Ann\x00Example",
        "\u202eelpmaxE nnA",
        "\ufeff",
        "on",
        "off",
        "false",
        "0",
        "-1",
        "1e999",
        "-1e999",
        "NaN",
        "Infinity",
        "9" * 40,
        "²",
        "١٢",
        "٢٠٢٠",
        "30",
        "2",
        "02",
        "2024",
        "Feb",
        "2024-02-30",
        "2024-02-29",
        "0000-00-00",
        "9999-12-31",
        "31/12/9999",
        "01/01/0001",
        "not_sure",
        "yes",
        "no",
        "continue",
        "save",
        "back",
        "null",
        "[]",
        '{"a": 1}',
        "<script>alert(1)</script>",
        "'; DROP TABLE intake_draft; --",
        "%00",
        "=1+1",
    ]
)
# Built by repetition: drawing a huge string character by character would be slow.
huge_text = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["x", "é", "9", "💉", " ", "\x00", "<a>"]),
    st.integers(2_000, 30_000),
)
value = st.one_of(tricky_text, odd_text, huge_text)
# A field may come several times (a tick box list, or a tampered form) or not at all.
values = st.lists(value, min_size=1, max_size=3)


def field_names(names: list[str]) -> st.SearchStrategy[str]:
    """The form's own field names, mostly, and now and then any name at all."""
    return st.one_of(st.sampled_from(names), st.sampled_from(names), odd_text)


def posted(names: list[str]) -> st.SearchStrategy[dict[str, list[str]]]:
    """A body of fields named like the form's, or not, with any values."""
    return st.dictionaries(field_names(names), values, max_size=12)


def tampered(valid: dict[str, Any], names: list[str]) -> st.SearchStrategy[dict[str, list[str]]]:
    """A valid body with fields left out, changed, repeated or added."""

    def build(dropped: set[str], changed: dict[str, list[str]]) -> dict[str, list[str]]:
        body = {key: _as_list(v) for key, v in valid.items() if key not in dropped}
        return body | changed

    keys = sorted(valid)
    return st.builds(
        build,
        st.sets(st.sampled_from(keys), max_size=3) if keys else st.just(set()),
        st.dictionaries(field_names(names), values, max_size=3),
    )


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


class Body:
    """A request body as a client sends it: form-encoded, multipart, or raw bytes."""

    def __init__(self, fields: dict[str, list[str]] | None, *, kind: str, raw: bytes = b""):
        self.fields, self.kind, self.raw = fields, kind, raw

    def request(self, path: str) -> Any:
        factory = RequestFactory()
        if self.kind == "multipart":
            return factory.post(path, self.fields)
        if self.kind == "urlencoded":
            pairs = [(k, v) for k, vs in (self.fields or {}).items() for v in vs]
            data = urlencode(pairs).encode()
            return factory.post(path, data, content_type="application/x-www-form-urlencoded")
        return factory.post(path, self.raw, content_type=self.kind)

    def __repr__(self) -> str:
        shown = self.fields if self.fields is not None else self.raw[:200]
        return f"Body({self.kind}, {_short(shown)})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 2000 else text[:2000] + f"… ({len(text)} characters)"


RAW_CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    "application/json",
    "text/plain",
]
# More fields than Django parses (DATA_UPLOAD_MAX_NUMBER_FIELDS), a body over its size limit, and
# broken encodings; by name, so that no strategy's description holds three megabytes.
ODD_BODIES = {
    "too many fields": b"&".join(b"f%d=x" % n for n in range(1_200)),
    "too big": b"note=" + b"x" * 3_000_000,
    "lone percent": b"%",
    "bad escapes": b"a=%ZZ&b=%C3%28",
    "no names": b"=&&==",
}


def bodies(valid: dict[str, Any], names: list[str]) -> st.SearchStrategy[Body]:
    """Every kind of body this test sends: tampered valid ones most, then random and raw ones.

    Build it once per test, not per example: Hypothesis describes a new strategy each time, which
    would cost more than the request.
    """
    encoded = st.sampled_from(["urlencoded", "multipart"])
    return st.one_of(
        st.builds(lambda f, k: Body(f, kind=k), tampered(valid, names), encoded),
        st.builds(lambda f, k: Body(f, kind=k), tampered(valid, names), encoded),
        st.builds(lambda f, k: Body(f, kind=k), posted(names), encoded),
        st.builds(
            lambda raw, kind: Body(None, kind=kind, raw=raw),
            st.one_of(
                st.binary(max_size=300),
                st.sampled_from(sorted(ODD_BODIES)).map(ODD_BODIES.__getitem__),
            ),
            st.sampled_from(RAW_CONTENT_TYPES),
        ),
    )
