"""Issue 13, point 11: the shipped processes speak bokmål with its own letters. "Startlan" for
"Startlån" reached the pages once; a caseworker reads these names and labels on every case.

Every text a person reads in a shipped model (element names, documentation) and in its forms
(titles, descriptions, choice labels; never the codes) is searched for
words whose æ, ø or å was written as a, o or e. The words are ones the processes use, each a
stand-in that is no bokmål word of its own, so a hit is a misspelling."""

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

PROCESSES = Path(__file__).resolve().parents[2] / "bpmn" / "processes"

# Stand-in -> the bokmål word. Whole words, case-insensitive.
STAND_INS = {
    "startlan": "startlån",
    "lan": "lån",
    "soknad": "søknad",
    "soknaden": "søknaden",
    "soknader": "søknader",
    "loslatelse": "løslatelse",
    "loslatt": "løslatt",
    "loslates": "løslates",
    "oppfolging": "oppfølging",
    "oppfolgingen": "oppfølgingen",
    "bostotte": "bostøtte",
    "okonomi": "økonomi",
    "okonomien": "økonomien",
    "okonomisk": "økonomisk",
    "okonomiske": "økonomiske",
    "forste": "første",
    "ovrige": "øvrige",
    "fodselsnummer": "fødselsnummer",
    "fodselsdato": "fødselsdato",
    "arsak": "årsak",
    "lopende": "løpende",
    "mote": "møte",
    "motet": "møtet",
    "losning": "løsning",
    "nodvendig": "nødvendig",
    "nar": "når",
    "ogsa": "også",
    "pa": "på",
    "ma": "må",
}
STAND_IN = re.compile(r"\b(" + "|".join(STAND_INS) + r")\b", re.IGNORECASE)


def _model_texts(path: Path):
    for element in ElementTree.parse(path).iter():
        if element.get("name"):
            yield element.get("name")
        if element.tag.endswith("}documentation") and element.text:
            yield element.text


def _json_strings(value):
    """What a person reads of a form: titles, descriptions and choice labels (enum values
    and other keys are codes, written without æ, ø and å on purpose)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("title", "description") and isinstance(item, str):
                yield item
            elif key == "x-enum-labels" and isinstance(item, dict):
                yield from (label for label in item.values() if isinstance(label, str))
            else:
                yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


def _texts():
    for path in sorted(PROCESSES.glob("*.bpmn")):
        for text in _model_texts(path):
            yield path.name, text
    for path in sorted((PROCESSES / "forms").glob("*.json")):
        for text in _json_strings(json.loads(path.read_text(encoding="utf-8"))):
            yield path.name, text


def misspellings(texts) -> list[str]:
    return [
        f"{where}: “{match.group(0)}” should be “{STAND_INS[match.group(0).lower()]}” in “{text[:80]}”"
        for where, text in texts
        for match in STAND_IN.finditer(text)
    ]


def test_the_shipped_models_and_forms_write_aeoeaa():
    texts = list(_texts())
    assert len(texts) > 200  # the models and forms were read
    assert misspellings(texts) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Startlan og tilskudd", ["Startlan"]),
        ("Oppfolging etter losslatelse", ["Oppfolging"]),
        ("Møte på kontoret", []),
        ("Manuell vurdering av planen", []),  # "ma" and "lan" only as whole words
    ],
)
def test_the_check_finds_a_stand_in_and_only_whole_words(text, found):
    assert [m.split("“")[1].split("”")[0] for m in misspellings([("x", text)])] == found
