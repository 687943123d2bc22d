"""``[processes.NAME]`` in settings: typed, frozen, unknown keys named."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockyard.config import ConfigError, ProcessSettings, ReadinessProbe, load_settings


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "stockyard.toml"
    path.write_text(text)
    return load_settings(config_file=path, env={})


def test_a_process_table_entry_is_read_with_its_probe_and_limits(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        '[processes.worker]\ncommand = "sleep"\nargs = ["60"]\ndepends_on = ["hub"]\n'
        'stopsignal = "sigint"\n[processes.worker.readiness]\nlog = "up"\n'
        '[processes.worker.limits]\nmemory_mb = 200\naction = "restart"\n',
    )
    worker = settings.processes["worker"]  # type: ignore[attr-defined]
    assert worker.args == ("60",)
    assert worker.stopsignal == "INT"
    assert worker.readiness.kind == "log"
    assert worker.limits.action == "restart"
    with pytest.raises(ValueError, match="frozen"):
        worker.command = "other"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[processes.hub]\nbogus = 1\n", "processes.hub.bogus"),
        ('[processes.hub]\nautorestart = "sometimes"\n', "processes.hub.autorestart"),
        ('[processes.hub]\nstopsignal = "STOP"\n', "processes.hub.stopsignal"),
        ("[processes.hub.limits]\ncpu_percent = -1\n", "processes.hub.limits.cpu_percent"),
        ('[processes."bad name"]\ncommand = "x"\n', "bad name"),
    ],
)
def test_a_bad_process_table_fails_with_one_line_naming_the_key(
    tmp_path: Path, text: str, named: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    message = str(caught.value)
    assert "\n" not in message
    assert named in message


def test_a_probe_takes_one_kind_only() -> None:
    with pytest.raises(ValueError, match="not http and log"):
        ReadinessProbe(http="http://127.0.0.1:1/", log="ready")
    assert ReadinessProbe().kind == "none"


def test_the_environment_can_override_one_field_of_a_process() -> None:
    settings = load_settings(env={"STOCKYARD_PROCESSES__HUB__STARTRETRIES": "7"})
    assert settings.processes["hub"] == ProcessSettings(startretries=7)
