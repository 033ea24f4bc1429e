#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The shared libshoal exports exactly the public API: every dynamic symbol
# it defines is a name declared with SHOAL_API in the public headers, and
# every such name is exported. So no internal shoal__ function, no inih
# ini_* function and nothing else leaks from the library.
#   symbols.sh LIBSHOAL.so INCLUDE_DIR/shoal
set -euo pipefail
lib=$1
inc=$2
fail() { echo "install symbols: $*" >&2; exit 1; }
[[ -f $lib ]] || fail "$lib not found"
work=$(mktemp -d "${TMPDIR:-/tmp}/shoal-symbols.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The API: on each SHOAL_API line, the declared name (the shoal_ word
# before "(" for a function, before ";" for a variable).
grep -h 'SHOAL_API' "$inc"/*.h \
    | sed -n 's/.*SHOAL_API[^(;]*[^A-Za-z0-9_]\(shoal_[A-Za-z0-9_]*\)[[:space:]]*[(;].*/\1/p' \
    | sort -u >"$work/api"
nm -D --defined-only "$lib" | awk '{ print $NF }' | sort -u >"$work/exported"
[[ -s $work/api ]] || fail "no SHOAL_API declarations found in $inc"
[[ -s $work/exported ]] || fail "$lib exports no symbols"

extra=$(comm -13 "$work/api" "$work/exported")
[[ -z $extra ]] || fail "$lib exports symbols that are not in the public API ($inc/*.h): $(echo $extra);" \
    "mark the internal ones static or leave them hidden (no SHOAL_API)"
missing=$(comm -23 "$work/api" "$work/exported")
[[ -z $missing ]] || fail "$lib does not export these SHOAL_API names: $(echo $missing)"
echo "install symbols: $lib exports the $(wc -l <"$work/api") names of the public API and nothing else"
