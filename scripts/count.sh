#!/usr/bin/env bash
# Example job: counts to $1 (default 10), one number a second, then says it is done.
set -euo pipefail
limit=${1:-10}
for ((i = 1; i <= limit; i++)); do
    echo "count $i of $limit"
    sleep 1
done
echo "done counting"
