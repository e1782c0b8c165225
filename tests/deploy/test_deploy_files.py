"""The deployment files say what docs/deploy.md says: production Streamlit settings, a non-root image with
the store on a volume, a TLS proxy that passes the websocket, one writer per store in compose and systemd,
and the same upload cap everywhere. Read as files; nothing is built or started."""

from __future__ import annotations

import configparser
import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path
from pathlib import PurePosixPath

import pytest
import yaml
from streamlit import config as st_config

from core.config import REPO_ROOT
from core.config import Settings

DEPLOY = REPO_ROOT / "deploy"
PROD_CONFIG = REPO_ROOT / ".streamlit" / "config.prod.toml"
DEV_CONFIG = REPO_ROOT / ".streamlit" / "config.toml"
UPLOAD_MB = Settings.__dataclass_fields__["max_upload_mb"].default
APP_PORT = 8501
HEALTH = re.compile(r"http://127\.0\.0\.1:8501/_stcore/health(?![\w/])")


# --- .streamlit/config.prod.toml ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod() -> dict:
    with PROD_CONFIG.open("rb") as fh:
        return tomllib.load(fh)


def test_prod_config_is_production(prod):
    assert prod["server"]["enableXsrfProtection"] is True
    assert prod["server"]["enableCORS"] is True
    assert prod["server"]["headless"] is True
    assert prod["server"]["runOnSave"] is False
    assert prod["server"]["fileWatcherType"] == "none"
    assert prod["client"]["showErrorDetails"] == "none"
    assert prod["client"]["toolbarMode"] == "viewer"
    assert prod["browser"]["gatherUsageStats"] is False
    assert prod["global"]["developmentMode"] is False


def test_prod_upload_cap_is_modelpulse_upload_cap(prod):
    assert isinstance(UPLOAD_MB, int)
    assert prod["server"]["maxUploadSize"] == UPLOAD_MB


def test_prod_config_names_only_real_streamlit_options(prod):
    known = st_config.get_config_options()
    named = [f"{section}.{key}" for section, table in prod.items() for key in table]
    assert named
    assert [name for name in named if name not in known] == []


def test_prod_config_keeps_every_development_setting_and_the_theme(prod):
    with DEV_CONFIG.open("rb") as fh:
        dev = tomllib.load(fh)
    missing = [f"{s}.{k}" for s, table in dev.items() for k in table if k not in prod.get(s, {})]
    assert missing == [], "config.prod.toml must set everything config.toml sets"
    assert prod["theme"] == dev["theme"]


# --- deploy/Dockerfile ---------------------------------------------------------------------------------


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends in a continuation line"
    return out


def _args(rest: str) -> list[str]:
    """Arguments of COPY/VOLUME/CMD in either the JSON or the shell form."""
    if rest.startswith("["):
        return json.loads(rest)
    return shlex.split(rest)


def _env(rest: str) -> dict[str, str]:
    pairs = shlex.split(rest)
    if len(pairs) >= 2 and "=" not in pairs[0]:  # legacy `ENV NAME value`
        return {pairs[0]: " ".join(pairs[1:])}
    return dict(pair.split("=", 1) for pair in pairs)


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return _instructions(DEPLOY / "Dockerfile")


def _only(instructions, word: str) -> list[str]:
    return [rest for name, rest in instructions if name == word]


def test_dockerfile_base_port_and_command(dockerfile):
    assert dockerfile[0] == ("FROM", "python:3.11-slim")
    assert _only(dockerfile, "WORKDIR") == ["/app"]
    assert str(APP_PORT) in _only(dockerfile, "EXPOSE")[-1].split()
    cmd = _args(_only(dockerfile, "CMD")[-1])
    assert cmd[:4] == ["python", "-m", "streamlit", "run"] and "serve.py" in cmd
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0"
    assert cmd[cmd.index("--server.port") + 1] == str(APP_PORT)


def test_dockerfile_runs_as_a_non_root_user(dockerfile):
    users = _only(dockerfile, "USER")
    assert users, "no USER: the app would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    names = [name for name, _ in dockerfile]
    assert names.index("USER") < names.index("CMD")


def test_dockerfile_healthcheck_asks_streamlit_with_python(dockerfile):
    checks = _only(dockerfile, "HEALTHCHECK")
    assert len(checks) == 1
    assert HEALTH.search(checks[0])
    assert "urllib" in checks[0] and "curl" not in checks[0]


def test_dockerfile_store_models_and_inbox_are_on_a_volume(dockerfile):
    env: dict[str, str] = {}
    for rest in _only(dockerfile, "ENV"):
        env.update(_env(rest))
    volumes = [PurePosixPath(v) for rest in _only(dockerfile, "VOLUME") for v in _args(rest)]
    assert volumes, "no VOLUME declared"
    for var in ("MODELPULSE_DB", "MODELPULSE_MODELS_DIR", "MODELPULSE_INBOX"):
        assert var in env, var
        path = PurePosixPath(env[var])
        assert any(path.is_relative_to(v) and path != v for v in volumes), f"{var}={path} is not under {volumes}"


def test_dockerfile_installs_requirements_before_copying_the_code(dockerfile):
    steps = [(name, rest) for name, rest in dockerfile if name in {"COPY", "RUN"}]
    install = next(i for i, (name, rest) in enumerate(steps) if name == "RUN" and "requirements.txt" in rest)
    before = [_args(rest)[:-1] for name, rest in steps[:install] if name == "COPY"]
    assert before == [["requirements.txt"]], "only requirements.txt may be copied before pip install"
    assert any(name == "COPY" and "core" in rest for name, rest in steps[install:])


def test_dockerfile_uses_the_production_streamlit_config(dockerfile):
    copies = [_args(rest) for rest in _only(dockerfile, "COPY")]
    assert [".streamlit/config.prod.toml", "./.streamlit/config.toml"] in copies or [
        ".streamlit/config.prod.toml",
        "/app/.streamlit/config.toml",
    ] in copies


def _copy_sources(dockerfile) -> list[str]:
    sources = []
    for rest in _only(dockerfile, "COPY"):
        args = [a for a in _args(rest) if not a.startswith("--")]
        assert "--from" not in rest, "a multi-stage COPY needs its own check"
        sources += args[:-1]
    return sources


def test_every_copied_path_exists_in_the_repository(dockerfile):
    sources = _copy_sources(dockerfile)
    assert {"requirements.txt", "app.py", "serve.py", "core/", "ui/", "screens/", "data/"} <= set(sources)
    assert [s for s in sources if not (REPO_ROOT / s).exists()] == []


# --- deploy/Dockerfile.dockerignore --------------------------------------------------------------------


def _ignore_patterns() -> list[str]:
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    assert not [p for p in patterns if p.startswith("!")], "negations are not modelled here"
    return patterns


def _ignored(rel: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `rel` (relative to the context) out: a pattern matching it or a folder above."""
    parts = PurePosixPath(rel).parts
    for pattern in patterns:
        pattern = pattern.strip("/")
        for end in range(1, len(parts) + 1):
            if pattern.startswith("**/"):
                tail = pattern[3:]
                if any(fnmatch.fnmatchcase("/".join(parts[start:end]), tail) for start in range(end)):
                    return True
            elif fnmatch.fnmatchcase("/".join(parts[:end]), pattern):
                return True
    return False


def test_dockerignore_leaves_out_local_state_and_secrets():
    patterns = _ignore_patterns()
    for rel in (
        ".venv/bin/python",
        ".modelpulse/modelpulse.duckdb",
        ".git/HEAD",
        "core/__pycache__/config.cpython-311.pyc",
        ".pytest_cache/v/cache/nodeids",
        ".hypothesis/examples/x",
        "docs/screenshots/overview.png",
        ".streamlit/secrets.toml",
    ):
        assert _ignored(rel, patterns), rel


def test_dockerignore_keeps_everything_the_dockerfile_copies(dockerfile):
    patterns = _ignore_patterns()
    assert [s for s in _copy_sources(dockerfile) if _ignored(s, patterns)] == []
    assert not _ignored("core/config.py", patterns)


# --- deploy/nginx.conf ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nginx() -> str:
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def test_nginx_passes_the_websocket(nginx):
    assert re.search(r"map\s+\$http_upgrade\s+\$connection_upgrade\s*\{", nginx)
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade;", nginx)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade;", nginx)
    assert re.search(r"proxy_http_version\s+1\.1;", nginx)
    assert re.search(r"proxy_read_timeout\s+86400;", nginx)
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert re.search(rf"proxy_set_header\s+{header}\s", nginx), header


def test_nginx_proxies_to_the_app_port(nginx):
    targets = re.findall(r"proxy_pass\s+([^;]+);", nginx)
    assert targets and set(targets) == {f"http://127.0.0.1:{APP_PORT}"}


def test_nginx_terminates_tls_and_redirects_http(nginx):
    assert re.search(r"listen\s+443\s+ssl", nginx)
    assert re.search(r"ssl_certificate\s+/etc/letsencrypt/live/\S+/fullchain\.pem;", nginx)
    assert re.search(r"ssl_certificate_key\s+/etc/letsencrypt/live/\S+/privkey\.pem;", nginx)
    protocols = re.search(r"ssl_protocols\s+([^;]+);", nginx).group(1).split()
    assert set(protocols) <= {"TLSv1.2", "TLSv1.3"} and protocols
    assert re.search(r"listen\s+80;", nginx) and re.search(r"return\s+301\s+https://\$host\$request_uri;", nginx)
    assert re.search(r'add_header\s+Strict-Transport-Security\s+"max-age=\d+[^"]*"\s+always;', nginx)
    assert nginx.count("{") == nginx.count("}")


def test_nginx_body_cap_is_the_upload_cap(nginx):
    caps = re.findall(r"client_max_body_size\s+(\d+)m;", nginx)
    assert caps == [str(UPLOAD_MB)]


# --- deploy/compose.yaml -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def _mounts(service: dict) -> list[dict]:
    out = []
    for volume in service["volumes"]:
        if isinstance(volume, str):
            source, target, *mode = volume.split(":")
            out.append({"source": source, "target": target, "read_only": mode == ["ro"]})
        else:
            out.append(volume)
    return out


def test_compose_app_service(compose):
    app = compose["services"]["app"]
    assert "profiles" not in app, "the app is what `docker compose up` starts"
    context = (DEPLOY / app["build"]["context"]).resolve()
    assert context == REPO_ROOT.resolve()
    assert (context / app["build"]["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    assert f"{APP_PORT}:{APP_PORT}" in [str(p) for p in app["ports"]]
    assert app["restart"] == "unless-stopped"
    assert HEALTH.search(" ".join(app["healthcheck"]["test"]))


def test_compose_mounts_the_store_volume_and_read_only_secrets(compose):
    assert "modelpulse-data" in compose["volumes"]
    for name in ("app", "watch"):
        mounts = {m["target"]: m for m in _mounts(compose["services"][name])}
        assert mounts["/data"]["source"] == "modelpulse-data", name
        secrets = mounts["/app/.streamlit/secrets.toml"]
        assert secrets["read_only"] is True, name
        assert (DEPLOY / secrets["source"]).resolve() == (REPO_ROOT / ".streamlit" / "secrets.toml").resolve()


def test_compose_watch_replaces_the_app_under_the_headless_profile(compose):
    watch = compose["services"]["watch"]
    assert watch["profiles"] == ["headless"]
    command = shlex.split(watch["command"]) if isinstance(watch["command"], str) else watch["command"]
    assert command == ["python", "-m", "core", "watch"]
    assert "ports" not in watch
    assert watch["healthcheck"] == {"disable": True}, "the image's web health check would mark it unhealthy"
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    assert re.search(r"#.*one writer per store", text, re.IGNORECASE)


# --- deploy/*.service ----------------------------------------------------------------------------------


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text(encoding="utf-8"))
    return parser


def _all_values(name: str, key: str) -> list[str]:
    """Every value of a key systemd allows more than once (configparser keeps only the last)."""
    text = (DEPLOY / name).read_text(encoding="utf-8")
    return re.findall(rf"^{key}=(.*)$", text, re.MULTILINE)


UNITS = {"modelpulse.service": "modelpulse-watch.service", "modelpulse-watch.service": "modelpulse.service"}


@pytest.mark.parametrize("name", UNITS)
def test_unit_sections_user_and_hardening(name):
    unit = _unit(name)
    assert {"Unit", "Service", "Install"} <= set(unit.sections())
    service = unit["Service"]
    assert service["User"] == "modelpulse"
    assert service["WorkingDirectory"] == "/opt/modelpulse"
    assert service["EnvironmentFile"] == "-/etc/modelpulse/env"
    assert service["Restart"] == "on-failure"
    assert service["NoNewPrivileges"] == "true"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "true"
    assert service["ReadWritePaths"] == "/var/lib/modelpulse"
    assert shlex.split(service["ExecStart"])[0] == "/opt/modelpulse/.venv/bin/python"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.parametrize("name", UNITS)
def test_unit_store_is_in_the_writable_path(name):
    env = dict(value.split("=", 1) for value in _all_values(name, "Environment"))
    store = PurePosixPath(env["MODELPULSE_DB"])
    assert store.is_relative_to(_unit(name)["Service"]["ReadWritePaths"])


@pytest.mark.parametrize("name", UNITS)
def test_units_exclude_each_other(name):
    assert UNITS[name] in _unit(name)["Unit"]["Conflicts"].split()


def test_app_unit_runs_streamlit_behind_the_proxy():
    command = shlex.split(_unit("modelpulse.service")["Service"]["ExecStart"])
    assert command[1:5] == ["-m", "streamlit", "run", "serve.py"]
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.port") + 1] == str(APP_PORT)


def test_watch_unit_runs_the_headless_watcher():
    unit = _unit("modelpulse-watch.service")
    assert shlex.split(unit["Service"]["ExecStart"])[1:] == ["-m", "core", "watch"]
    text = (DEPLOY / "modelpulse-watch.service").read_text(encoding="utf-8")
    assert re.search(r"^#.*one writer per store", text, re.IGNORECASE | re.MULTILINE)


def test_units_differ_only_in_what_they_run():
    def service_lines(name: str) -> list[str]:
        text = (DEPLOY / name).read_text(encoding="utf-8").split("[Service]", 1)[1].split("[Install]", 1)[0]
        return [line for line in text.splitlines() if line.strip() and not line.startswith(("#", "ExecStart="))]

    assert service_lines("modelpulse.service") == service_lines("modelpulse-watch.service")


# --- docs/deploy.md ------------------------------------------------------------------------------------


def test_deploy_doc_has_every_section():
    headings = re.findall(r"^## (.+)$", (REPO_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8"), re.MULTILINE)
    for section in (
        "Single VM (systemd + nginx)",
        "Docker",
        "Docker Compose",
        "Streamlit Community Cloud",
        "One writer per store",
        "Production settings",
        "Backups",
    ):
        assert section in headings, section


def test_deploy_doc_explains_every_production_setting(prod):
    text = (REPO_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    named = [f"{section}.{key}" for section, table in prod.items() if section != "theme" for key in table]
    assert [name for name in named if f"`{name}`" not in text] == []
