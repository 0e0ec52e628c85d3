#!/bin/sh
# One online backup of Mission Control's database, then the oldest ones beyond BACKUP_KEEP are removed.
#
#   MC_DB (or MC_DATA_DIR)  the database, as for every `mc` command (from /etc/mission-control/env)
#   BACKUP_DIR              where the backups go                (default /var/lib/mission-control/backups)
#   BACKUP_KEEP             how many to keep, newest first      (default 14)
#   MC_BIN                  the mc command                      (default /opt/mission-control/.venv/bin/mc)
#
# Each backup is `mc backup` (SQLite's VACUUM INTO: consistent while the server runs) into a temporary
# name, checked with PRAGMA integrity_check, then renamed to mc-YYYY-MM-DDTHHMMSSZ.db. Only after a good
# one is made are old ones removed, so a failing backup never costs an older good one. Any failure exits
# non-zero (the systemd unit then shows as failed).
set -eu

dir=${BACKUP_DIR:-/var/lib/mission-control/backups}
keep=${BACKUP_KEEP:-14}
mc=${MC_BIN:-/opt/mission-control/.venv/bin/mc}
case $keep in '' | *[!0-9]* | 0) echo "backup.sh: BACKUP_KEEP must be a number above 0, not '$keep'" >&2; exit 2 ;; esac

umask 077
mkdir -p "$dir"
name="mc-$(date -u +%Y-%m-%dT%H%M%SZ).db"
partial="$dir/.$name.partial"
trap 'rm -f "$partial"' EXIT
rm -f "$partial"

"$mc" backup "$partial" >/dev/null
"$(dirname "$mc")/python" - "$partial" <<'PY'
import sqlite3, sys
with sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True) as db:
    result = db.execute("PRAGMA integrity_check").fetchone()[0]
if result != "ok":
    sys.exit(f"backup.sh: the new backup fails its integrity check: {result}")
PY
if [ -e "$dir/$name" ]; then
  echo "backup.sh: $dir/$name exists already (two backups in one second?)" >&2
  exit 1
fi
mv "$partial" "$dir/$name"
echo "backup.sh: wrote $dir/$name ($(wc -c <"$dir/$name") bytes)"

# Names sort by date: remove all but the newest $keep.
ls -1 "$dir" | grep -E '^mc-[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{6}Z\.db$' | sort -r | tail -n +"$((keep + 1))" |
  while read -r old; do
    rm -f -- "$dir/$old"
    echo "backup.sh: removed $dir/$old"
  done
