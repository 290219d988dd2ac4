from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_read_from_the_environment_is_listed_in_env_example():
    read = set()
    for source in ("portal/settings.py", "deploy/gunicorn.conf.py"):
        text = (ROOT / source).read_text()
        read |= set(
            re.findall(r'(?:env_(?:str|bool|int|float|list|secret)|_int)\(\s*"([A-Z_]+)"', text)
        )
        read |= set(re.findall(r'os\.environ\.get\(\s*"([A-Z_]+)"', text))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / "deploy" / ".env.example").read_text(), re.M))

    assert read - listed == set()
