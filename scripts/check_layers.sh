#!/usr/bin/env bash
# Fails when a source file includes a folder its layer may not include (scripts/layers.conf).
#
#   scripts/check_layers.sh [ROOT]    check ROOT (default: the repository); exit 1 on a violation
#   scripts/check_layers.sh --self-test
#                                     check that deliberate violations in a copy of the tree are
#                                     caught (domain/ including api/, store/ including cache/,
#                                     api/ including a store backend, seed/ including api/, a
#                                     non-test file of domain/ including seed/) and the clean
#                                     tree passes
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
conf="$here/layers.conf"

check() {
  local root="$1"
  declare -A allowed=() test_allowed=()
  local backends=""
  while IFS= read -r line; do
    line="${line%%#*}"
    [[ "$line" =~ ^[[:space:]]*$ ]] && continue
    local name="${line%%:*}" deps="${line#*:}"
    if [[ "$name" =~ ^[[:space:]]*([a-z_]+)[[:space:]]+tests[[:space:]]*$ ]]; then
      test_allowed[${BASH_REMATCH[1]}]+=" $deps "
      continue
    fi
    name="${name//[[:space:]]/}"
    if [ "$name" = backends ]; then backends="$deps"; else allowed[$name]=" $name $deps "; fi
  done <"$conf"
  local t
  for t in "${!test_allowed[@]}"; do
    if [ -z "${allowed[$t]+x}" ]; then
      echo "check_layers: scripts/layers.conf: '$t tests' names no layer" >&2
      return 1
    fi
  done

  local violations=0 file layer inc target is_test
  while IFS= read -r file; do
    local rel="${file#"$root"/}"
    case "$rel" in
      app/*) layer=app ;;
      src/*) layer="${rel#src/}"; layer="${layer%%/*}" ;;
      *) continue ;;
    esac
    if [ -z "${allowed[$layer]+x}" ]; then
      echo "check_layers: $rel: folder '$layer' is not in scripts/layers.conf" >&2
      violations=$((violations + 1))
      continue
    fi
    is_test=0
    case "$rel" in *test.cc | *_fuzz.cc | */testing/*) is_test=1 ;; esac
    while IFS= read -r inc; do
      target="${inc%%/*}"
      # Only our own folders are layers; other quoted includes are third-party.
      [ -n "${allowed[$target]+x}" ] || continue
      if [[ "${allowed[$layer]}" != *" $target "* ]] &&
        ! { [ "$is_test" = 1 ] && [[ "${test_allowed[$layer]:-}" == *" $target "* ]]; }; then
        echo "check_layers: $rel includes \"$inc\": $layer/ may not include $target/" >&2
        violations=$((violations + 1))
        continue
      fi
      if [ "$target" != "$layer" ] && [ "$layer" != app ] && [ "$is_test" = 0 ]; then
        local b
        for b in $backends; do
          if [[ "$inc" == "$b/"* ]]; then
            echo "check_layers: $rel includes \"$inc\": only $target/ and app/ include the backend $b/" >&2
            violations=$((violations + 1))
          fi
        done
      fi
    done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/p' "$file")
  done < <(find "$root/src" "$root/app" -type f \( -name '*.h' -o -name '*.cc' \) | sort)

  if [ "$violations" -gt 0 ]; then
    echo "check_layers: $violations include(s) break the layering (scripts/layers.conf)" >&2
    return 1
  fi
  echo "check_layers: every include follows scripts/layers.conf"
}

self_test() {
  local repo tmp status=0
  repo="$(cd "$here/.." && pwd)"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$tmp/clean" "$tmp/bad"
  cp -r "$repo/src" "$repo/app" "$tmp/clean/"
  check "$tmp/clean" >/dev/null || { echo "self-test: the clean tree failed" >&2; return 1; }
  local -a cases=("src/domain/access.h|api/envelope.h|domain/ may not include api/"
                  "src/store/database.h|cache/cache.h|store/ may not include cache/"
                  "src/api/envelope.h|store/sqlite/sqlite_database.h|backend store/sqlite/"
                  "src/seed/demo_data.h|api/envelope.h|seed/ may not include api/"
                  "src/domain/rfid_service.h|seed/demo_data.h|domain/ may not include seed/")
  local c file inc want out
  for c in "${cases[@]}"; do
    IFS='|' read -r file inc want <<<"$c"
    rm -rf "$tmp/bad" && mkdir -p "$tmp/bad" && cp -r "$repo/src" "$repo/app" "$tmp/bad/"
    printf '#include "%s"\n' "$inc" >>"$tmp/bad/$file"
    if out="$(check "$tmp/bad" 2>&1)"; then
      echo "self-test: $file including $inc was not caught" >&2
      status=1
    elif [[ "$out" != *"$want"* ]]; then
      echo "self-test: $file including $inc: unexpected report: $out" >&2
      status=1
    else
      echo "self-test: caught: $(grep -m1 "$want" <<<"$out")"
    fi
  done
  return "$status"
}

case "${1:-}" in
  --self-test) self_test ;;
  "") check "$(cd "$here/.." && pwd)" ;;
  *) check "$(cd "$1" && pwd)" ;;
esac
