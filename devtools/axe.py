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
import tarfile
import tempfile
from pathlib import Path

AXE_VERSION = "4.10.3"
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "var" / "axe"


def script_path(directory: Path = DEFAULT_DIR) -> Path:
    return directory / f"axe-{AXE_VERSION}.min.js"


def install(directory: Path = DEFAULT_DIR) -> Path:
    target = script_path(directory)
    if target.exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is missing. Install it: sudo apt-get install npm")
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        subprocess.run(  # noqa: S603 - fixed package name and pinned version
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", tmp, "--silent"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (archive,) = Path(tmp).glob("*.tgz")
        with tarfile.open(archive) as tar:
            member = tar.getmember("package/axe.min.js")
            tar.extractall(tmp, members=[member], filter="data")
        shutil.move(str(Path(tmp) / "package" / "axe.min.js"), target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=str(DEFAULT_DIR))
    args = parser.parse_args(argv)
    try:
        path = install(Path(args.dir))
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"axe-core: {exc}", file=sys.stderr)
        return 1
    print(f"axe-core {AXE_VERSION}: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
