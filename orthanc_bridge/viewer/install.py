"""Install the prebuilt OHIF viewer from npm (@ohif/app) under var/, rebased to /viewer/.

The package ships a viewer built for the URL root ``/``. Served under ``/viewer/``, every place
that assumes ``/`` must change, or lazy chunks, codecs (wasm) and web workers fail to load:
``window.PUBLIC_URL`` and root-relative href/src/content in index.html, webpack's public path in
several bundles, ``url(/`` in the CSS, the microscopy viewer's path in the app bundle and the
paths in manifest.json. The result is checked; nothing is committed.

    python -m orthanc_bridge.viewer.install [--version 3.13.2] [--dir var/ohif]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

OHIF_VERSION = "3.13.2"
BASE = "/viewer/"
WEBPACK_ROOT = '__webpack_require__.p = "/";'


class ViewerInstallError(RuntimeError):
    pass


def rebase(dist: Path, base: str = BASE) -> None:
    index = dist / "index.html"
    html = index.read_text()
    html = html.replace('window.PUBLIC_URL="/"', f'window.PUBLIC_URL="{base}"')
    html = re.sub(r'(href|src|content)="/(?!/)', rf'\1="{base}', html)
    index.write_text(html)
    for bundle in dist.glob("*.js"):
        text = bundle.read_text(errors="surrogateescape")
        new = text.replace(WEBPACK_ROOT, f'__webpack_require__.p = "{base}";')
        new = new.replace("'/dicom-microscopy-viewer/'", f"'{base}dicom-microscopy-viewer/'")
        if new != text:
            bundle.write_text(new, errors="surrogateescape")
    for stylesheet in dist.glob("*.css"):
        text = stylesheet.read_text(errors="surrogateescape")
        new = re.sub(r"url\(/(?!/)", f"url({base}", text)
        if new != text:
            stylesheet.write_text(new, errors="surrogateescape")
    manifest = dist / "manifest.json"
    if manifest.exists():
        manifest.write_text(re.sub(r'"/(?!/)', f'"{base}', manifest.read_text()))


def check(dist: Path, base: str = BASE) -> None:
    """Fail loudly if the rebasing missed something the viewer needs."""
    if not (dist / "index.html").exists():
        raise ViewerInstallError(f"{dist} has no index.html")
    html = (dist / "index.html").read_text()
    if f'window.PUBLIC_URL="{base}"' not in html or re.search(
        r'(?:href|src)="/(?!/|viewer/)', html
    ):
        raise ViewerInstallError("index.html still refers to the URL root /")
    left = [p.name for p in dist.glob("*.js") if WEBPACK_ROOT in p.read_text(errors="ignore")]
    if left:
        raise ViewerInstallError(f"bundles still load chunks from /: {', '.join(left)}")


def npm_unpack(spec: str, into: Path, prefix: str) -> Path:
    """``npm pack`` the pinned package ``spec`` and extract the members under ``prefix``
    (e.g. ``package/dist/``) into ``into``; the path of ``prefix`` there. Raises
    ViewerInstallError without npm, CalledProcessError when npm fails."""
    npm = shutil.which("npm")
    if npm is None:
        raise ViewerInstallError("npm is missing. Install it: sudo apt-get install npm")
    subprocess.run(  # noqa: S603 - a fixed package name and a pinned version
        [npm, "pack", spec, "--pack-destination", str(into), "--silent"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (archive,) = into.glob("*.tgz")
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
        tar.extractall(into, members=members, filter="data")
    return into / prefix


def install(target: Path, version: str = OHIF_VERSION) -> Path:
    """Install once per version; later calls only check. Returns the dist folder."""
    dist = target / "dist"
    stamp = target / f"installed-{version}"
    if stamp.exists():
        check(dist)
        return dist
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target) as tmp:
        new_dist = npm_unpack(f"@ohif/app@{version}", Path(tmp), "package/dist/")
        rebase(new_dist)
        check(new_dist)
        if dist.exists():
            shutil.rmtree(dist)
        shutil.move(str(new_dist), dist)
    for old in target.glob("installed-*"):
        old.unlink()
    stamp.write_text(version)
    return dist


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=OHIF_VERSION)
    parser.add_argument("--dir", default="var/ohif")
    args = parser.parse_args(argv)
    try:
        dist = install(Path(args.dir), args.version)
    except (ViewerInstallError, subprocess.CalledProcessError) as exc:
        print(f"OHIF viewer: {exc}", file=sys.stderr)
        return 1
    print(f"OHIF viewer {args.version}: {dist}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
