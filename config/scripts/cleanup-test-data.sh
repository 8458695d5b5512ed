#!/bin/sh
# Example runbook script for config/devexbot.example.yaml: `/devex cleanup-test-data`.
# devexbot runs it without a shell, as: cleanup-test-data.sh --env ENV --days DAYS
# Replace the echo lines with the real clean-up.
set -eu
env="" days=""
while [ $# -gt 0 ]; do
  case "$1" in
    --env) env="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 64 ;;
  esac
done
echo "Deleting test fixtures older than $days days in $env (run ${DEVEXBOT_RUN_ID:-by hand} by ${DEVEXBOT_USER:-$USER})"
echo "Nothing to delete in this example."
