"""docker-compose.yml and its overrides against the compose spec and the project's rules (fast; the stack
itself is started, surveyed through and recreated by tests/stack, `make stack-test`)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from wildwatch import config

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


def test_compose_file_follows_the_compose_spec():
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run([str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_takes_every_secret_from_the_environment():
    text = COMPOSE.read_text()
    variables = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    example = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
               if line and not line.startswith("#")}
    assert variables <= example, f"not in .env.example: {variables - example}"
    for secret in ("POSTGRES_PASSWORD", "WILDWATCH_DB_PASSWORD", "AIRFLOW_DB_PASSWORD", "REDIS_PASSWORD",
                   "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET"):
        uses = re.findall(r"\$\{" + secret + r"([^}]*)\}", text)
        assert uses and all(u.startswith(":?") for u in uses), f"{secret} must be required (${{{secret}:?...}})"
    doc = yaml.safe_load(text)
    for name, service in doc["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if (any(word in key for word in ("PASSWORD", "SECRET", "FERNET")) and not key.endswith("_FILE")) or \
                    ("://" in str(value) and "@" in str(value)):
                assert "${" in str(value), f"{name}: {key} must come from the environment"
    for line in (ROOT / ".env.example").read_text().splitlines():
        if any(k in line for k in ("PASSWORD", "SECRET", "FERNET")):
            assert line.endswith("="), f".env.example must not carry a value: {line}"


def test_compose_services_are_celery_airflow_with_loopback_ports_and_no_log_servers():
    doc = yaml.safe_load(COMPOSE.read_text())
    services = doc["services"]
    assert {"postgres", "redis", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "airflow-worker"} <= set(services)
    assert services["postgres"]["healthcheck"] and services["redis"]["healthcheck"]
    assert services["airflow-worker"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    for name in ("airflow-scheduler", "airflow-triggerer"):
        assert "--skip-serve-logs" in services[name]["command"]
    # The site pools exist before any scheduler starts (a task whose pool is missing never runs).
    init = (ROOT / "deploy" / "init.sh").read_text()
    assert services["airflow-init"]["command"] == ["/opt/wildwatch/deploy/init.sh"] and "wildwatch pools sync" in init
    assert services["airflow-scheduler"]["depends_on"]["airflow-init"]["condition"] == \
        "service_completed_successfully"
    for name, service in services.items():
        for port in service.get("ports", []):
            if name == "proxy" and str(port).endswith(":443"):
                continue  # the one public entry: TLS, in front of the review app
            assert str(port).startswith(("127.0.0.1:", "${WILDWATCH_INTERNAL_BIND:-127.0.0.1}:")), \
                f"{name} publishes {port} on every interface by default"
        if name.startswith("airflow-") and name != "airflow-init":
            assert service["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_is_a_deployment_that_keeps_everything():
    doc = yaml.safe_load(COMPOSE.read_text())
    services = doc["services"]
    assert {"review", "proxy", "objectstore"} <= set(services)
    for name, service in services.items():
        if name == "airflow-init":
            assert service["restart"] == "no"
            continue
        assert service.get("healthcheck"), f"{name} has no health check"
        assert service.get("restart") == "unless-stopped", name
        assert service.get("logging", {}).get("options", {}).get("max-size"), f"{name}: logs not rotated"
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            assert source.startswith("./") or source in doc["volumes"], f"{name}: {volume} is not a named volume"
    # evidence leaves no container: the workers and the review app share one bucket
    env = services["airflow-worker"]["environment"]
    assert env["WILDWATCH_EVIDENCE_STORE"].startswith("s3://") and env == services["airflow-scheduler"]["environment"]
    assert services["review"]["environment"]["WILDWATCH_EVIDENCE_STORE"] == env["WILDWATCH_EVIDENCE_STORE"]
    assert "/healthz" in " ".join(services["review"]["healthcheck"]["test"])
    # forwarded addresses are believed from the proxy only, which has that fixed address
    proxy_ip = services["proxy"]["networks"]["default"]["ipv4_address"]
    assert services["review"]["environment"]["WILDWATCH_TRUSTED_PROXIES"] == proxy_ip
    assert services["airflow-worker"]["mem_limit"] and services["airflow-worker"]["shm_size"]
    assert "wildwatch evidence init" in (ROOT / "deploy" / "init.sh").read_text()
    caddy = (ROOT / "deploy" / "caddy" / "Caddyfile").read_text()
    assert "reverse_proxy review:8000" in caddy and "tls {$WILDWATCH_TLS}" in caddy
    for override in ("compose.local-images.yml", "compose.demo.yml", "compose.worker.yml"):
        result = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema",
                                 "vendor.compose-spec", str(ROOT / "deploy" / override)], capture_output=True, text=True)
        assert result.returncode == 0, override + result.stdout + result.stderr


def test_production_settings_refuse_placeholders(monkeypatch):
    monkeypatch.setenv("WILDWATCH_ENV", "production")
    monkeypatch.delenv("WILDWATCH_DATABASE_URL", raising=False)
    with pytest.raises(config.ConfigError, match="development only"):
        config.load()
    monkeypatch.setenv("WILDWATCH_DATABASE_URL", "postgresql://wildwatch:changeme@db/wildwatch")
    with pytest.raises(config.ConfigError, match="no real password"):
        config.load()
    monkeypatch.setenv("WILDWATCH_DATABASE_URL", "postgresql://wildwatch:Zq8-long-random@db/wildwatch")
    assert config.load().database_url
