"""Build nsshutdown's container image from the real Dockerfile without a registry (``make image``).

The Dockerfile's stages are used as they are; only its ``PYTHON_IMAGE`` base changes: a Debian
root filesystem made with mmdebstrap from Debian packages (python3, python3-venv,
python-is-python3, ca-certificates), cached as a tarball in ``~/.cache/nsshutdown/images`` and
imported into podman. podman (or buildah underneath it) builds the image.

pip inside the build resolves the project's dependencies through the same package index
configuration and CA trust as this machine's pip: ``pip config list`` (which includes the
``PIP_*`` environment) is written to a pip.conf that is bind-mounted for the build only, with
every file or directory it names (CA bundle, find-links). Mounts are not layers: none of it ends
up in the image.

    python -m devtools.images [--tag localhost/nsshutdown:dev] [--no-check]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("NSSHUTDOWN_CACHE", Path.home() / ".cache" / "nsshutdown"))
DEFAULT_TAG = "localhost/nsshutdown:dev"
SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "python-is-python3", "ca-certificates")
# Documentation and translations are of no use in an image.
_DPKG_EXCLUDES = (
    "/usr/share/doc/*",
    "/usr/share/man/*",
    "/usr/share/locale/*",
    "/usr/share/info/*",
)
_BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# This machine's root lacks CAP_SYS_RESOURCE and its hard open-files limit is 20000: podman's
# default ulimits (1048576) cannot be set, so containers get what the host can give.
_CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
"""
_PIP_VALUE = re.compile(r"^(?P<scope>[^.]*)\.(?P<key>[^=]+)='(?P<value>.*)'$")


class ImageBuildError(RuntimeError):
    """A tool is missing or a build step failed."""


def podman_env() -> dict[str, str]:
    """The environment podman runs with here: the project's containers.conf."""
    conf = CACHE / "containers.conf"
    if not conf.exists() or conf.read_text() != _CONTAINERS_CONF:
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(_CONTAINERS_CONF)
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def podman(*args: str, capture: bool = False) -> str:
    if shutil.which("podman") is None:
        raise ImageBuildError("podman not found: apt-get install podman")
    result = subprocess.run(
        ["podman", *args],
        env=podman_env(),
        stdout=subprocess.PIPE if capture else None,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ImageBuildError(f"podman {args[0]} failed with exit code {result.returncode}")
    return result.stdout or ""


def image_exists(ref: str) -> bool:
    return (
        subprocess.run(["podman", "image", "exists", ref], env=podman_env(), check=False).returncode
        == 0
    )


# -- the base image ---------------------------------------------------------------------------


def _base_key() -> str:
    recipe = "\n".join([SUITE, *BASE_PACKAGES, *_DPKG_EXCLUDES, _BASE_PATH])
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def base_image_ref() -> str:
    return f"localhost/nsshutdown-base/python:{SUITE}-{_base_key()}"


def base_tarball() -> Path:
    """The cached root filesystem, made with mmdebstrap when missing (about 90 s)."""
    tarball = CACHE / "images" / f"debian-{SUITE}-python-{_base_key()}.tar"
    if tarball.exists():
        return tarball
    if shutil.which("mmdebstrap") is None:
        raise ImageBuildError("mmdebstrap not found: apt-get install mmdebstrap")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_suffix(".partial.tar")
    argv = [
        "mmdebstrap",
        "--quiet",
        "--variant=minbase",
        f"--include={','.join(BASE_PACKAGES)}",
        # Snapshot mirrors publish old Release files; accept them at bootstrap time only.
        '--aptopt=Acquire::Check-Valid-Until "false"',
        *(f"--dpkgopt=path-exclude={pattern}" for pattern in _DPKG_EXCLUDES),
        # Nothing of the bootstrap's own configuration stays in the image.
        '--customize-hook=rm -f "$1"/etc/apt/apt.conf.d/99mmdebstrap',
        '--customize-hook=rm -f "$1"/etc/dpkg/dpkg.cfg.d/99mmdebstrap',
        SUITE,
        str(partial),
    ]
    print(f"images: making the {SUITE} base with mmdebstrap ({', '.join(BASE_PACKAGES)})")
    if subprocess.run(argv, check=False).returncode != 0:
        partial.unlink(missing_ok=True)
        raise ImageBuildError("mmdebstrap failed")
    partial.rename(tarball)
    return tarball


def ensure_base_image() -> str:
    ref = base_image_ref()
    if not image_exists(ref):
        tarball = base_tarball()
        podman(
            "import",
            "--change",
            f"ENV PATH={_BASE_PATH}",
            "--change",
            'CMD ["python3"]',
            str(tarball),
            ref,
        )
    return ref


# -- pip configuration for the build -------------------------------------------------------------


def host_pip_config() -> dict[str, dict[str, str]]:
    """This machine's effective pip settings by section (``:env:`` entries go to ``global``)."""
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sections: dict[str, dict[str, str]] = {}
    # The environment overrides the files, as it does for pip: read its entries last.
    lines = sorted(listing.splitlines(), key=lambda line: line.startswith(":env:"))
    for line in lines:
        match = _PIP_VALUE.match(line.strip())
        if not match:
            continue
        scope = match["scope"]
        section = "global" if scope in ("", ":env:") else scope
        sections.setdefault(section, {})[match["key"]] = match["value"]
    return sections


def pip_build_mounts(workdir: Path) -> list[str]:
    """``-v`` options: a pip.conf with the host's settings and every local path it names."""
    sections = host_pip_config()
    lines: list[str] = []
    paths: set[str] = set()
    for section, values in sorted(sections.items()):
        lines.append(f"[{section}]")
        for key, value in sorted(values.items()):
            lines.append(f"{key} = {value}")
            paths.update(token for token in value.split() if token.startswith("/"))
    pip_conf = workdir / "pip.conf"
    pip_conf.write_text("\n".join(lines) + "\n")
    mounts = [f"--volume={pip_conf}:/etc/pip.conf:ro"]
    mounts += [f"--volume={path}:{path}:ro" for path in sorted(paths) if Path(path).exists()]
    return mounts


# -- the nsshutdown image -----------------------------------------------------------------------


def _project_version() -> str:
    with (REPO_ROOT / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def _revision() -> str:
    result = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def _image_id(ref: str) -> str | None:
    result = subprocess.run(
        ["podman", "image", "inspect", "--format={{.Id}}", ref],
        env=podman_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def _drop_replaced(previous: str | None, tag: str) -> None:
    """Remove the image ``tag`` named before this build, so rebuilds do not pile up on disk.

    Only that one image, and only when nothing else names it (podman refuses otherwise).
    """
    if previous and previous != _image_id(tag):
        subprocess.run(
            ["podman", "rmi", previous],
            env=podman_env(),
            capture_output=True,
            check=False,
        )


def build_image(tag: str = DEFAULT_TAG) -> str:
    """Build the Dockerfile on the local base image; return ``tag``."""
    base = ensure_base_image()
    previous = _image_id(tag)
    with tempfile.TemporaryDirectory(prefix="nsshutdown-image-") as tmp:
        podman(
            "build",
            "--pull=never",
            # pip reaches the package index through the host's network (and its proxy settings).
            "--network=host",
            # No layer cache: the package layer changes with nearly every commit, and a cache of
            # stale build stages would only pile up on disk.
            "--layers=false",
            f"--build-arg=PYTHON_IMAGE={base}",
            f"--build-arg=VERSION={_project_version()}",
            f"--build-arg=REVISION={_revision()}",
            *pip_build_mounts(Path(tmp)),
            f"--tag={tag}",
            f"--file={REPO_ROOT / 'Dockerfile'}",
            str(REPO_ROOT),
        )
    _drop_replaced(previous, tag)
    return tag


def locked_down_run(
    image: str, *args: str, volumes: tuple[str, ...] = (), entrypoint: str | None = None
) -> str:
    """Run ``image`` as the CronJob's pod does: read-only root, uid 65532, tmpfs /tmp, no caps."""
    override = [f"--entrypoint={entrypoint}"] if entrypoint else []
    return podman(
        "run",
        "--rm",
        "--network=none",
        "--read-only",
        "--user=65532:65532",
        "--tmpfs=/tmp:rw,size=32m",
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges",
        *(f"--volume={volume}" for volume in volumes),
        *override,
        image,
        *args,
        capture=True,
    )


def check_image(image: str) -> None:
    """The image starts locked down and validates a shipped example schedule."""
    print(locked_down_run(image, "--version").strip())
    examples = REPO_ROOT / "examples"
    print(
        locked_down_run(
            image,
            "validate",
            "--schedule=/examples/nights-and-weekends.yaml",
            volumes=(f"{examples}:/examples:ro",),
        ).strip()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.images", description=__doc__)
    parser.add_argument("--tag", default=os.environ.get("IMAGE", DEFAULT_TAG))
    parser.add_argument("--no-check", action="store_true", help="skip the locked-down run")
    options = parser.parse_args(argv)
    started = time.monotonic()
    try:
        build_image(options.tag)
        if not options.no_check:
            check_image(options.tag)
    except ImageBuildError as exc:
        print(f"images: {exc}", file=sys.stderr)
        return 1
    print(f"images: built {options.tag} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
