"""axe-core, the accessibility checker the browser tests run on every page, from npm.

Installed once per version under var/axe/ by `make test` (no network when the tests run), as
the OHIF viewer is; nothing is committed.

    python -m devtools.axe [--dir var/axe]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from orthanc_bridge.viewer.install import ViewerInstallError, npm_unpack

AXE_VERSION = "4.10.3"
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "var" / "axe"


def script_path(directory: Path = DEFAULT_DIR) -> Path:
    return directory / f"axe-{AXE_VERSION}.min.js"


def install(directory: Path = DEFAULT_DIR) -> Path:
    target = script_path(directory)
    if target.exists():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        script = npm_unpack(f"axe-core@{AXE_VERSION}", Path(tmp), "package/axe.min.js")
        shutil.move(str(script), target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=str(DEFAULT_DIR))
    args = parser.parse_args(argv)
    try:
        path = install(Path(args.dir))
    except (ViewerInstallError, subprocess.CalledProcessError) as exc:
        print(f"axe-core: {exc}", file=sys.stderr)
        return 1
    print(f"axe-core {AXE_VERSION}: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
