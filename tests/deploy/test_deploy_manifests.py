"""deploy/Dockerfile and deploy/k8s: valid, and naming the same settings as the lecture's HAProxy.

The constants live in deploy/lecture.py (port, health path, affinity cookie, health-check rhythm,
WebSocket timeout); every manifest is checked against them. The manifests are validated against
the Kubernetes API schemas (kubernetes-validate, strict: an unknown or misspelt field fails) and
rendered by `kubectl kustomize` where kubectl is installed. No Docker daemon is needed: the
Dockerfile is parsed and checked instruction by instruction.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from deploy import lecture
from deploy.lecture import (
    APP_PORT,
    CHECK_FALL,
    CHECK_INTERVAL_S,
    CHECK_RISE,
    COOKIE_NAME,
    HEALTH_PATH,
    TUNNEL_TIMEOUT_S,
    app_start_args,
)

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
NAME = "optimizer-playground"
PLACEHOLDER = "replace-me-with-a-random-secret"


def manifests() -> dict[str, dict[str, Any]]:
    """Every Kubernetes object under deploy/k8s by kind (one object per kind here)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            assert doc["kind"] not in found, f"two {doc['kind']} objects"
            found[doc["kind"]] = doc
    return found


def dockerfile() -> list[tuple[str, str]]:
    """deploy/Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    instructions, current = [], ""
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        current += " " + stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            word, _, rest = current.strip().partition(" ")
            instructions.append((word.upper(), rest.strip()))
            current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return instructions


def container() -> dict[str, Any]:
    return manifests()["Deployment"]["spec"]["template"]["spec"]["containers"][0]


def test_every_manifest_is_valid_kubernetes() -> None:
    objects = manifests()
    assert set(objects) == {"Deployment", "Service", "Ingress", "Secret", "PodDisruptionBudget"}
    for kind, obj in objects.items():
        assert obj["metadata"]["name"] == NAME, kind
        kubernetes_validate.validate(obj, kubernetes_validate.latest_version(), strict=True)


def test_a_misspelt_field_would_be_caught() -> None:
    deployment = manifests()["Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["periodSecond"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)


def test_kustomization_applies_everything_but_the_secret() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    # The secret is created with a random value (docs/deploy.md), never applied from the repo:
    # an apply -k must not overwrite it with the placeholder.
    assert set(kustomization["resources"]) == on_disk - {"secret.yaml"}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kubectl_kustomize_renders_the_manifests() -> None:
    result = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    kinds = {doc["kind"] for doc in yaml.safe_load_all(result.stdout)}
    assert kinds == {"Deployment", "Service", "Ingress", "PodDisruptionBudget"}


def test_deployment_probes_the_health_path_on_the_app_port() -> None:
    c = container()
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"http": APP_PORT}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = c[probe]["httpGet"]
        assert get["path"] == HEALTH_PATH, probe
        assert ports.get(get["port"], get["port"]) == APP_PORT, probe
    # Taken out of the Service as HAProxy takes a replica out of the lecture.
    ready = c["readinessProbe"]
    assert ready["periodSeconds"] == CHECK_INTERVAL_S
    assert ready["failureThreshold"] == CHECK_FALL
    assert ready["successThreshold"] == CHECK_RISE
    deployment = manifests()["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_every_pod_reads_the_one_cookie_secret() -> None:
    env = {e["name"]: e for e in container()["env"]}
    ref = env["STREAMLIT_SERVER_COOKIE_SECRET"]["valueFrom"]["secretKeyRef"]
    secret = manifests()["Secret"]
    assert ref["name"] == secret["metadata"]["name"]
    assert set(secret["stringData"]) == {ref["key"]}
    assert secret["stringData"][ref["key"]] == PLACEHOLDER


def test_service_and_ingress_reach_the_pods_with_cookie_affinity() -> None:
    objects = manifests()
    service, ingress = objects["Service"], objects["Ingress"]
    pod_labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    (port,) = service["spec"]["ports"]
    assert port["port"] == APP_PORT and port["targetPort"] == "http"
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    backend = path["backend"]["service"]
    assert backend == {"name": service["metadata"]["name"], "port": {"number": APP_PORT}}
    notes = {
        k.removeprefix("nginx.ingress.kubernetes.io/"): v
        for k, v in ingress["metadata"]["annotations"].items()
    }
    assert notes["affinity"] == "cookie"
    assert notes["session-cookie-name"] == COOKIE_NAME
    assert notes["session-cookie-change-on-failure"] == "true"  # like HAProxy's redispatch
    assert int(notes["proxy-read-timeout"]) == TUNNEL_TIMEOUT_S
    assert int(notes["proxy-send-timeout"]) == TUNNEL_TIMEOUT_S
    assert "upstream-hash-by" not in notes  # never affinity by client address
    # Uploads the app accepts (server.maxUploadSize, MB) pass the ingress (proxy-body-size).
    upload_mb = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    body = notes["proxy-body-size"]
    assert body.endswith("m") and upload_mb < int(body[:-1]) <= 4 * upload_mb


def test_dockerfile_is_debian_with_chromium_warmup_nonroot_and_the_health_check() -> None:
    steps = dockerfile()
    kinds = [k for k, _ in steps]
    froms = [args for k, args in steps if k == "FROM"]
    assert len(froms) == 1 and froms[0].startswith("python:3.11-") and "bookworm" in froms[0]
    runs = " ".join(args for k, args in steps if k == "RUN")
    assert "apt-get install" in runs and " chromium " in runs + " "
    assert "-r requirements.txt" in runs
    assert "python -m playground.warmup" in runs
    # The warm-up runs as the app's user, after the code is in, so the cache is theirs.
    user_at = kinds.index("USER")
    user = dict(steps)["USER"]
    assert user not in ("root", "0")
    warmup_at = next(i for i, (k, a) in enumerate(steps) if k == "RUN" and "playground.warmup" in a)
    assert kinds.index("COPY") < user_at < warmup_at
    pod = manifests()["Deployment"]["spec"]["template"]["spec"]
    assert f"--uid {pod['securityContext']['runAsUser']}" in runs
    assert dict(steps)["EXPOSE"] == str(APP_PORT)
    health = dict(steps)["HEALTHCHECK"]
    assert f"http://127.0.0.1:{APP_PORT}{HEALTH_PATH}" in health
    entry = json.loads(dict(steps)["ENTRYPOINT"])
    assert entry == ["/app/deploy/entrypoint.sh"]
    assert os.access(DEPLOY / "entrypoint.sh", os.X_OK)
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored


def test_entrypoint_starts_the_app_like_run_app_on_the_shared_port() -> None:
    text = (DEPLOY / "entrypoint.sh").read_text()
    start = next(line for line in text.splitlines() if line.startswith("exec "))
    words = shlex.split(start.removesuffix("\\"))
    assert words[1:5] == [".venv/bin/python", "-m", "deploy.lecture", "exec-app"]
    assert words[words.index("--server.port") + 1] == str(APP_PORT)
    assert words[words.index("--server.address") + 1] == "0.0.0.0"


def test_run_lecture_starts_the_app_like_run_app() -> None:
    text = (ROOT / "scripts" / "run_lecture.sh").read_text()
    (line,) = [line for line in text.splitlines() if '"$py" -m' in line and "--server.port" in line]
    words = shlex.split(line.removesuffix("\\"))
    at = words.index("$py") + 1
    assert words[at : at + 3] == ["-m", "deploy.lecture", "exec-app"]


def test_exec_app_runs_run_apps_command_with_the_extra_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(lecture.os, "execv", lambda path, args: calls.append((path, list(args))))
    lecture.main(["exec-app", "--server.port", "9000"])
    assert calls == [(sys.executable, [sys.executable, *app_start_args(), "--server.port", "9000"])]
    # And run_app.sh's own start line is what app_start_args read.
    run_app = (ROOT / "scripts" / "run_app.sh").read_text()
    assert f'exec .venv/bin/python {" ".join(app_start_args())} "$@"' in run_app


def test_the_start_command_is_read_from_run_app(tmp_path: Path) -> None:
    assert app_start_args()[-2:] == ["run", "app.py"]
    script = tmp_path / "run_app.sh"
    script.write_text(
        "#!/bin/sh\n# exec .venv/bin/python -m old run app.py\n"
        'exec .venv/bin/python -m some.wrapper run app.py "$@"\n'
    )
    assert app_start_args(script) == ["-m", "some.wrapper", "run", "app.py"]
    script.write_text("#!/bin/sh\necho no start here\n")
    with pytest.raises(ValueError):
        app_start_args(script)


def test_entrypoint_refuses_the_placeholder_secret() -> None:
    env = {**os.environ, "STREAMLIT_SERVER_COOKIE_SECRET": PLACEHOLDER}
    result = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh")], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 64
    assert "placeholder" in result.stderr
