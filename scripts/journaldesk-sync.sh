#!/bin/sh
# One pass of the runner for cron: runs whatever is due now (sync in school hours, the reminder
# before a consultation, the weekly summary) and exits. See docs/deployment.md.
# Settings: $JOURNALDESK_CONFIG, else config/settings.yaml of the project folder.
set -eu
cd "$(dirname "$0")/.."
export PYTHONUTF8=1
export LANG="${LANG:-C.UTF-8}"
exec ./.venv/bin/journaldesk run --once --config "${JOURNALDESK_CONFIG:-config/settings.yaml}" "$@"
