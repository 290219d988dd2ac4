from __future__ import annotations

import re
from pathlib import Path

CATALOG = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def test_every_french_message_is_translated_and_none_is_fuzzy():
    """French is the default language: an untranslated or fuzzy entry shows English to users."""
    entries = CATALOG.read_text().split("\n\n")[1:]  # the first block is the header
    untranslated = [
        re.search(r'^msgid "(.*)"', e, re.M).group(1)
        for e in entries
        # An empty msgstr: `msgstr ""` with no continuation line (wrapped ones start that way).
        if re.search(r'^msgstr(\[\d\])? ""\n(?!")', e + "\n", re.M) and "msgid" in e
    ]
    fuzzy = [e.splitlines()[-3:] for e in entries if "fuzzy" in e]

    assert untranslated == []
    assert fuzzy == []
