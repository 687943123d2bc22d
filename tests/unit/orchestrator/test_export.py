"""The process table exported as systemd units and Kubernetes manifests."""

from __future__ import annotations

import configparser
import json
from pathlib import Path

from typer.testing import CliRunner

from stockyard.cli import app
from stockyard.config import ProcessLimits, ProcessSettings, Settings
from stockyard.orchestrator import ProcessTable, kubernetes_manifests, systemd_units


def _settings() -> Settings:
    limits = ProcessLimits(memory_mb=512, cpu_percent=150)
    return Settings(processes={"hub": ProcessSettings(limits=limits, stopwaitsecs=7)})


def test_every_process_becomes_a_unit_with_its_dependencies_and_limits() -> None:
    settings = _settings()
    table = ProcessTable.from_settings(settings)
    files = {f.name: f.text for f in systemd_units(table, settings)}
    assert set(files) == {
        "stockyard.target",
        "stockyard-sandbox.service",
        "stockyard-node-sandbox.service",
        "stockyard-hub.service",
    }
    parser = configparser.RawConfigParser(strict=False)
    parser.read_string(files["stockyard-hub.service"])
    assert parser["Unit"]["Requires"] == "stockyard-node-sandbox.service"
    service = parser["Service"]
    assert service["ExecStart"] == "/usr/bin/env stockyard hub"
    assert (service["MemoryMax"], service["CPUQuota"]) == ("512M", "150%")
    assert (service["TimeoutStopSec"], service["KillMode"]) == ("7", "control-group")
    assert "stockyard-hub.service" in files["stockyard.target"]


def test_the_manifests_parse_and_carry_every_process_with_the_hubs_probes() -> None:
    settings = _settings()
    table = ProcessTable.from_settings(settings)
    objects = [json.loads(f.text) for f in kubernetes_manifests(table, settings, image="img:1")]
    kinds = [(o["kind"], o["metadata"]["name"]) for o in objects]
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    assert set(deployments) == {"stockyard-sandbox", "stockyard-node-sandbox", "stockyard-hub"}
    assert ("Service", "stockyard-hub") in kinds
    assert ("ConfigMap", "stockyard-settings") in kinds
    assert ("Secret", "stockyard-keys") in kinds
    env = next(o for o in objects if o["metadata"]["name"] == "stockyard-env")["data"]
    assert env["REDIS_HOST"] == "redis"
    hub = deployments["stockyard-hub"]["spec"]["template"]["spec"]["containers"][0]
    assert hub["command"] == ["stockyard", "hub"]
    assert hub["image"] == "img:1"
    assert hub["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert hub["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert hub["resources"]["limits"] == {"memory": "512Mi", "cpu": "1500m"}
    node = deployments["stockyard-node-sandbox"]
    assert node["spec"]["strategy"] == {"type": "Recreate"}
    assert node["metadata"]["annotations"]["stockyard/depends-on"] == "sandbox"


def test_deploy_writes_the_files_and_lists_them(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["deploy", "kubernetes", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed["processes"] == ["sandbox", "node@sandbox", "hub"]
    for path in listed["files"]:
        json.loads(Path(path).read_text())
    bad = CliRunner().invoke(app, ["deploy", "nomad", "--out", str(tmp_path)])
    assert bad.exit_code == 2
    assert "systemd or kubernetes" in bad.stderr
