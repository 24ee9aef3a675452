"""docker/: compose.yaml (the PostGIS server archives its WAL into a volume of its own) and the
Dockerfile (it installs the wheel, finds the map assets, builds from a small context)."""

from __future__ import annotations

import re
import shlex

from tests.support.compose import COMPOSE, compose_file, server_settings


def test_the_database_archives_wal_into_a_mounted_volume() -> None:
    compose = compose_file()
    db = compose["services"]["db"]
    settings = server_settings(db["command"])
    assert db["command"][0] == "postgres"
    assert settings["wal_level"] == "replica" and settings["archive_mode"] == "on"
    # %p is the segment's path, %f its name; never overwrite an archived segment.
    archive = settings["archive_command"]
    target = re.fullmatch(r"test ! -f (\S+)/%f && cp %p \1/%f", archive)
    assert target is not None, archive
    mounts = {mount.split(":")[1]: mount.split(":")[0] for mount in db["volumes"]}
    assert "/archive" in mounts and target.group(1).startswith("/archive/")
    assert mounts["/archive"] in compose["volumes"]
    assert mounts["/archive"] != mounts["/var/lib/postgresql/data"]
    # The entrypoint wrapper creates the folder for postgres, then runs the image's own.
    script = db["entrypoint"][2]
    assert target.group(1) in shlex.split(script)
    assert 'exec docker-entrypoint.sh "$$@"' in script


DOCKER = COMPOSE.parent
DOCKERFILE = DOCKER / "Dockerfile"
DOCKERIGNORE = DOCKER.parent / ".dockerignore"


def _stages() -> list[list[str]]:
    """The Dockerfile's build stages, each a list of instructions (continued lines joined)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = [line.strip() for line in text.splitlines()]
    stages: list[list[str]] = []
    for instruction in instructions:
        if not instruction or instruction.startswith("#"):
            continue
        if instruction.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(instruction)
    return stages


def test_the_image_installs_the_wheel_not_the_source() -> None:
    """A build stage makes the wheel; the final image pip-installs that .whl (never `-e`) and
    holds no copy of the source tree."""
    stages = _stages()
    runs = [i for stage in stages for i in stage if i.startswith("RUN ")]
    assert not [i for i in runs if re.search(r"pip install\b.*(\s-e\s|--editable)", i)]
    builder = next(s for s in stages if any("pip wheel" in i for i in s))
    name = builder[0].split()[-1]
    assert builder[0].upper().split()[-2] == "AS"
    final = stages[-1]
    copied = [i for i in final if i.startswith(f"COPY --from={name} ")]
    assert len(copied) == 1
    wheels = copied[0].split()[-1]
    installs = [i for i in final if i.startswith("RUN ") and "pip install" in i]
    assert len(installs) == 1 and f"{wheels}/geo_patrol-*.whl" in installs[0]
    assert not [i for i in final if re.match(r"COPY (?!--from).*\bgeo_patrol\b", i)]


def test_the_image_finds_the_map_assets() -> None:
    """GEO_PATROL_VENDOR_DIR names the folder the npm stage's node_modules is copied to."""
    final = _stages()[-1]
    env = " ".join(i for i in final if i.startswith("ENV "))
    vendor = re.search(r"GEO_PATROL_VENDOR_DIR=(\S+)", env)
    assert vendor is not None
    assert any(
        i.startswith("COPY --from=") and i.split()[-2:] == ["/app/node_modules", vendor.group(1)]
        for i in final
    )


def test_the_build_context_is_what_the_dockerfile_copies() -> None:
    """.dockerignore leaves out everything (.git, .venv, var, node_modules, build, dist ...)
    except the files the Dockerfile copies from the context."""
    lines = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    included = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied: set[str] = set()
    for stage in _stages():
        for instruction in stage:
            if instruction.startswith("COPY ") and "--from=" not in instruction:
                copied |= {source.rstrip("/") for source in instruction.split()[1:-1]}
    assert included == copied
    # What it copies exists (the image copied migrations/ after they moved into the package).
    for source in copied:
        assert (DOCKERIGNORE.parent / source).exists(), source
    for left_out in (".git", ".venv", "var", "node_modules", "build", "dist", "tests"):
        assert left_out not in included
