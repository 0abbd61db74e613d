"""The web client's language catalogues: every language listed in i18n/languages.json has a
catalogue with exactly the English keys, a non-empty text for each, and the same `{placeholders}`
as English (a translator who drops `{count}` would show a sentence without its number), and every
one is served with the page's policy.

Plural forms are the one variation: a text with `{count}` may have variants `<key>.<category>`
(`one`, `few`, …: the categories of the language's Intl.PluralRules), which a language has when
its grammar needs them, whatever English has."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.web.handlers.web_client import web_client

I18N = Path(str(resources.files("cencomm.web").joinpath("static"))) / "i18n"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
PLURAL = re.compile(r"(?P<base>.+)\.(zero|one|two|few|many|other)")


def _load(name: str) -> Any:
    return json.loads((I18N / name).read_text(encoding="utf-8"))


def _index() -> dict[str, Any]:
    index: dict[str, Any] = _load("languages.json")
    return index


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _english_key(key: str, english: dict[str, str]) -> str | None:
    """The English key a catalogue's key translates: itself, or for a plural form the text
    with `{count}` it is a form of; None if there is no such English text."""
    if key in english and not _plural_form(key, english):
        return key
    found = PLURAL.fullmatch(key)
    if found and "{count}" in english.get(found["base"], ""):
        return found["base"]
    return None


def _plural_form(key: str, english: dict[str, str]) -> bool:
    found = PLURAL.fullmatch(key)
    return bool(found and "{count}" in english.get(found["base"], ""))


def test_the_language_list_names_english_and_french_each_once_with_a_direction() -> None:
    languages = _index()["languages"]
    codes = [entry["code"] for entry in languages]
    assert codes[0] == "en" and "fr" in codes
    assert len(codes) == len(set(codes))
    for entry in languages:
        assert set(entry) == {"code", "name", "dir"}, entry
        assert entry["dir"] in ("ltr", "rtl") and entry["name"].strip()
        assert re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]+)*", entry["code"]), entry
    for entry in _index().get("pseudo", []):
        assert "-x-" in entry["code"], entry  # never a real language a browser could ask for
        assert (I18N / f"{entry['catalogue']}.json").is_file(), entry


def test_every_catalogue_has_the_english_keys_texts_and_placeholders() -> None:
    english: dict[str, str] = _load("en.json")
    for entry in _index()["languages"]:
        code = entry["code"]
        catalogue: dict[str, Any] = _load(f"{code}.json")
        required = {key for key in english if not _plural_form(key, english)}
        assert sorted(required - set(catalogue)) == [], f"{code}: missing"
        unknown = [key for key in catalogue if _english_key(key, english) is None]
        assert unknown == [], f"{code}: not in English"
        empty = [
            key for key, text in catalogue.items() if not isinstance(text, str) or not text.strip()
        ]
        assert empty == [], f"{code}: empty texts"
        differing = {}
        for key, text in catalogue.items():
            wanted = _placeholders(english[str(_english_key(key, english))])
            if wanted != _placeholders(text):
                differing[key] = (wanted, _placeholders(text))
        assert differing == {}, f"{code}: placeholders differ from English"


def test_the_french_catalogue_keeps_tlp_codes_and_uses_french_typography() -> None:
    english: dict[str, str] = _load("en.json")
    french: dict[str, str] = _load("fr.json")
    for key, text in english.items():
        # TLP codes are the FIRST standard's names in every language.
        assert re.findall(r"TLP:[A-Z+]+", text) == re.findall(
            r"TLP:[A-Z+]+", french.get(key, text)
        ), key
    straight = [key for key, text in french.items() if "'" in text]
    assert straight == []  # the typographic apostrophe (U+2019)
    # A space before a colon, semicolon, question or exclamation mark (TLP codes aside).
    unspaced = [
        key
        for key, text in french.items()
        if re.search(r"[^\s:]+[:;?!](\s|$)", re.sub(r"TLP:[A-Z+]+", "TLP", text))
    ]
    assert unspaced == []
    untranslated = [
        key
        for key, text in english.items()
        if text == french.get(key) and len(re.findall(r"\w+", PLACEHOLDER.sub("", text))) >= 2
    ]
    assert untranslated == []


async def test_every_catalogue_is_served_under_the_build(client: TestClient[Any, Any]) -> None:
    base = f"/static/{web_client().build}/i18n/"
    for entry in _index()["languages"]:
        resp = await client.get(f"{base}{entry['code']}.json")
        assert resp.status == 200, entry
        assert resp.content_type == "application/json"
        assert await resp.json() == _load(f"{entry['code']}.json")
