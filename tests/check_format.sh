#!/usr/bin/env bash
# Fails when a tracked C++ source differs from what clang-format makes of it.
set -euo pipefail
cd "$1"
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' 2>/dev/null || find . -name '*.[ch]pp')
if ((${#files[@]} == 0)); then
    echo "no C++ sources found under $1" >&2
    exit 1
fi
status=0
for file in "${files[@]}"; do
    if ! clang-format --style=file "$file" | cmp -s - "$file"; then
        echo "not formatted: $file (run clang-format -i $file)" >&2
        status=1
    fi
done
echo "checked ${#files[@]} files"
exit $status
