#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# spdx_headers: every source file of the repository (C, headers, shell,
# Python, CMake, templates, job scripts) names its licence in an SPDX line
# near its top, and the LICENSE file is the GPL version 3.
#   check_spdx.sh SOURCE_DIR
set -euo pipefail
src=$1
cd "$src"
grep -q "GNU GENERAL PUBLIC LICENSE" LICENSE && grep -q "Version 3, 29 June 2007" LICENSE ||
    { echo "spdx_headers: LICENSE is missing or not the GPL version 3" >&2; exit 1; }
# The files git knows, or every file when the tree is not a git checkout.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    list=$(git ls-files --cached --others --exclude-standard)
else
    list=$(find . -path ./build -prune -o -type f -print | sed 's|^\./||')
fi
missing=0 n=0
while IFS= read -r f; do
    case $f in
        *.c | *.h | *.cpp | *.sh | *.py | *.sbatch | *.cmake | *.in | */CMakeLists.txt | CMakeLists.txt | .ci/run) ;;
        *) continue ;;
    esac
    [[ -f $f ]] || continue
    n=$((n + 1))
    if ! head -n 3 "$f" | grep -q "SPDX-License-Identifier: GPL-3.0-or-later"; then
        echo "spdx_headers: $f has no 'SPDX-License-Identifier: GPL-3.0-or-later' in its first 3 lines" >&2
        missing=$((missing + 1))
    fi
done <<<"$list"
if ((missing)); then
    echo "spdx_headers: $missing of $n files lack the licence line; add it as the first line (after a #! line)" >&2
    exit 1
fi
echo "spdx_headers: $n files, all with the licence line"
