"""The vendored browser libraries are what the manifest says, with their licences."""

from __future__ import annotations

import hashlib
import json

from stockyard.dashboard import STATIC_DIR

VENDOR = STATIC_DIR / "vendor"


def test_every_vendored_file_matches_its_manifest_entry_and_has_its_licence() -> None:
    manifest = json.loads((VENDOR / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["registry"] == "https://registry.npmjs.org"
    names = {p["name"] for p in manifest["packages"]}
    assert names == {"htmx.org", "htmx-ext-sse", "lightweight-charts"}
    for package in manifest["packages"]:
        body = (VENDOR / package["file"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == package["file_sha256"], package["name"]
        assert package["integrity"].startswith("sha512-")
        assert package["license"]
        assert (VENDOR / f"{package['name']}.LICENSE").is_file()


def test_lightweight_charts_keeps_its_attribution() -> None:
    head = (VENDOR / "lightweight-charts.standalone.production.js").read_text()[:400]
    assert "TradingView Lightweight Charts" in head
    assert "Apache License 2.0" in head
    assert "Apache License" in (VENDOR / "lightweight-charts.LICENSE").read_text()
