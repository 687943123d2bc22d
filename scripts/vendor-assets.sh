#!/usr/bin/env bash
# Vendor the dashboard's browser libraries from the npm registry into the package:
# exact versions, each tarball checked against the sha512 integrity the registry publishes,
# the files the pages load kept beside their licences, and a manifest (name, version,
# integrity, licence). The output is committed: nothing is fetched at run time, and no Node
# toolchain is needed to install or run Stockyard (this script needs curl, python3 and tar;
# `npm view` is used for the metadata when npm is present, the registry's JSON otherwise).
#
#   scripts/vendor-assets.sh            # rewrite src/stockyard/dashboard/static/vendor/
set -euo pipefail

REGISTRY="${NPM_REGISTRY:-https://registry.npmjs.org}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/src/stockyard/dashboard/static/vendor"

# name  version  file-in-tarball  vendored-name
PACKAGES=(
  "htmx.org 2.0.11 package/dist/htmx.min.js htmx.min.js"
  "htmx-ext-sse 2.2.4 package/dist/sse.min.js htmx-ext-sse.min.js"
  "lightweight-charts 5.3.0 package/dist/lightweight-charts.standalone.production.js lightweight-charts.standalone.production.js"
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT"
manifest="$work/manifest.tsv"
: >"$manifest"

metadata() { # name version -> JSON of that version's registry entry
  curl --fail --silent --show-error --location "$REGISTRY/$1/$2"
}

for entry in "${PACKAGES[@]}"; do
  read -r name version inner target <<<"$entry"
  meta="$(metadata "$name" "$version")"
  tarball="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["dist"]["tarball"])' <<<"$meta")"
  integrity="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["dist"]["integrity"])' <<<"$meta")"
  licence="$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("license", ""))' <<<"$meta")"
  case "$tarball" in
    "$REGISTRY"/*) ;;
    *) echo "vendor-assets: $name's tarball is not on $REGISTRY: $tarball" >&2; exit 1 ;;
  esac
  case "$integrity" in
    sha512-*) ;;
    *) echo "vendor-assets: $name@$version has no sha512 integrity ($integrity)" >&2; exit 1 ;;
  esac
  file="$work/$name-$version.tgz"
  curl --fail --silent --show-error --location -o "$file" "$tarball"
  actual="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "vendor-assets: $name@$version integrity mismatch: $actual != $integrity" >&2
    exit 1
  fi
  unpacked="$work/$name"
  mkdir -p "$unpacked"
  tar -xzf "$file" -C "$unpacked"
  if [ -z "$licence" ]; then # no "license" field: the first line of the LICENSE file names it
    licence="$(head -1 "$unpacked/package/LICENSE")"
  fi
  cp "$unpacked/$inner" "$OUT/$target"
  # the licence (and any NOTICE, lightweight-charts' attribution) beside the file
  found=0
  for extra in LICENSE LICENSE.md LICENSE.txt LICENCE NOTICE NOTICE.md; do
    if [ -f "$unpacked/package/$extra" ]; then
      cp "$unpacked/package/$extra" "$OUT/$name.$extra"
      found=1
    fi
  done
  if [ "$found" -eq 0 ]; then
    echo "vendor-assets: $name@$version ships no LICENSE file" >&2
    exit 1
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$version" "$integrity" "$licence" "$target" \
    "$(sha256sum "$OUT/$target" | cut -d' ' -f1)" >>"$manifest"
  echo "vendor-assets: $name@$version ($licence) -> $target"
done

python3 - "$manifest" "$OUT/manifest.json" <<'PY'
import json
import sys

rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
packages = [
    {
        "name": name,
        "version": version,
        "integrity": integrity,
        "license": licence,
        "file": target,
        "file_sha256": sha256,
    }
    for name, version, integrity, licence, target, sha256 in rows
]
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump({"registry": "https://registry.npmjs.org", "packages": packages}, out, indent=2)
    out.write("\n")
PY
echo "vendor-assets: manifest at $OUT/manifest.json"
