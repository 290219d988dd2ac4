"""docker-compose.yml and deploy/Dockerfile, checked without a Docker engine (none exists on the
machines that run the tests): what can be read from the files is asserted here; the topology
itself runs in test_stack.py from the same Nginx template."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from devtools.local_server import free_port
from devtools.stack import Stack
from devtools.stack.servers import NGINX_TEMPLATE, PLACEHOLDER

ROOT = Path(__file__).resolve().parents[2]
INTERNAL = {"db", "redis", "orthanc", "web", "sync"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "deploy" / "Dockerfile").read_text()


def stage(dockerfile: str, name: str) -> str:
    """The instructions of one build stage."""
    match = re.search(rf"^FROM \S+ AS {name}\n(.*?)(?=^FROM |\Z)", dockerfile, re.M | re.S)
    assert match, f"no stage {name}"
    return match.group(1)


def test_the_services_of_the_topology(compose):
    assert set(compose["services"]) == INTERNAL | {"nginx"}
    assert compose["services"]["sync"]["command"] == ["orthanc_sync", "--follow"]


def test_only_nginx_is_published(compose):
    published = {name for name, s in compose["services"].items() if s.get("ports")}
    override = yaml.safe_load((ROOT / "docker-compose.dicom.yml").read_text())

    assert published == {"nginx"}
    assert override["services"]["orthanc"]["ports"] == ["${ORTHANC_DICOM_PORT:-4242}:4242"]


def test_dependencies_wait_for_health_checks_that_exist(compose, dockerfile):
    services = compose["services"]
    # A health check in compose, or in the image's own stage (web: its HEALTHCHECK).
    checked = {name for name, s in services.items() if "test" in s.get("healthcheck", {})}
    if "HEALTHCHECK" in stage(dockerfile, "web"):
        checked |= {
            name for name, s in services.items() if s.get("build", {}).get("target") == "web"
        }
        checked |= {
            name
            for name, s in services.items()
            if s.get("image", "").startswith("preview-dicom/web")
        } - {"sync"}  # the follower overrides the entrypoint: no HTTP server to check
    waits = {
        (name, dependency)
        for name, s in services.items()
        for dependency, rule in (s.get("depends_on") or {}).items()
        if rule.get("condition") == "service_healthy"
    }

    assert {"db", "redis", "web", "nginx"} <= checked
    assert {("web", "db"), ("web", "redis"), ("orthanc", "db"), ("nginx", "web")} <= waits
    assert {dependency for _name, dependency in waits} <= checked


def test_every_variable_compose_reads_is_in_env_example(compose):
    text = (ROOT / "docker-compose.yml").read_text()
    text += (ROOT / "docker-compose.dicom.yml").read_text()
    read = set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", text))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / "deploy" / ".env.example").read_text(), re.M))

    assert read and read - listed == set()


def test_images_are_pinned(compose, dockerfile):
    images = [s["image"] for s in compose["services"].values() if "image" in s]
    third_party = [i for i in images if not i.startswith("preview-dicom/")]
    bases = re.findall(r"^ARG \w+_IMAGE=(\S+)$", dockerfile, re.M)

    assert third_party and bases
    for image in third_party + bases:
        name, _, tag = image.rpartition(":")
        assert name and re.fullmatch(r"\d+\.\d+(\.\d+)?(-[a-z0-9]+)*", tag), image
    assert re.findall(r"^FROM (\S+)", dockerfile, re.M) == ["${PYTHON_IMAGE}"] * 3 + [
        "${NGINX_IMAGE}"
    ]


def test_the_images_run_as_another_user_than_root(dockerfile):
    for name in ("web", "nginx"):
        users = re.findall(r"^USER (\S+)", stage(dockerfile, name), re.M)
        assert users and users[-1] not in ("root", "0"), name


def test_compose_and_make_stack_fill_the_same_nginx_template(compose, dockerfile, tmp_path):
    placeholders = set(PLACEHOLDER.findall(NGINX_TEMPLATE.read_text()))
    nginx_stage = stage(dockerfile, "nginx")
    envsh = (ROOT / "deploy" / "nginx" / "entrypoint" / "15-preview-dicom.envsh").read_text()
    in_image = set(re.findall(r"\b(NGINX_[A-Z_]+)=", nginx_stage))
    in_compose = set(compose["services"]["nginx"]["environment"])
    computed = set(re.findall(r"^export (NGINX_[A-Z_]+)", envsh, re.M))
    stack = Stack(tmp_path, https_port=free_port(), http_port=free_port(), log=False)

    assert "COPY deploy/nginx/templates/ /etc/nginx/templates/" in nginx_stage
    assert NGINX_TEMPLATE.parent == ROOT / "deploy" / "nginx" / "templates"
    assert placeholders - (in_image | in_compose | computed) == set()
    assert placeholders - set(stack.nginx_values()) == set()
