"""English left in what a bokmål user reads: the browser tests check pages with it, and the
tests of a refused model's messages check the texts the editor and the API give."""

from __future__ import annotations

import functools
import gettext
import re
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "nb" / "LC_MESSAGES" / "django.mo"

# Words of English sentences that bokmål does not have (an id such as has_home is one word);
# quoted text («...») is the model's own or a parser's, and may be in any language.
ENGLISH_WORDS = frozenset({"the", "which", "is", "has", "must", "not", "does", "with", "should"})


@functools.cache
def english_phrases() -> frozenset[str]:
    """Msgids of the catalogue (three words or more of literal text, translated to
    something else): English that a bokmål page shows when a translation is missed."""
    with CATALOGUE.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    phrases = set()
    for msgid, msgstr in catalog.items():
        if isinstance(msgid, tuple):
            msgid = msgid[0]
        if not msgid or msgid == msgstr:
            continue
        for fragment in re.split(r"%\(\w+\)\w|\{\w*\}|<[^>]+>", msgid):
            fragment = " ".join(fragment.split()).strip(" .,:;()“”")
            if len(fragment.split()) >= 3:
                phrases.add(fragment)
    return frozenset(phrases)


def english_in(text: str) -> list[str]:
    """The English in a text meant to be bokmål, outside its quotes: catalogue phrases and
    English words."""
    unquoted = re.sub(r"«[^»]*»", " ", " ".join(text.split()))
    found = sorted(phrase for phrase in english_phrases() if phrase in unquoted)
    found += sorted({word for word in re.findall(r"[A-Za-z][\w-]*", unquoted) if word in ENGLISH_WORDS})
    return found
