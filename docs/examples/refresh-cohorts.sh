#!/bin/sh
# Refresh every cohort of a folder and download what changed since the last refresh.
#
#   refresh-cohorts.sh SPECS STATE DATA [idc-sql refresh options...]
#
# SPECS holds the cohort specifications (*.yaml), STATE is the refresh state (snapshots and
# history, kept between runs), DATA is where the series are downloaded, one folder per series
# version (the default layout: <collection_id>/<PatientID>/<StudyInstanceUID>/<Modality>_<crdc_
# series_uuid>). Options after the three folders go to `idc-sql refresh` (e.g. --engine
# bigquery --project my-project).
#
# Exit status: 0 when nothing changed, when the changes were downloaded, or when another
# refresh of STATE is running (it is tried again next time); 1 when something failed.
# The commands can be changed through IDC_SQL, S5CMD, PYTHON and S3_ENDPOINT.
set -u
if [ $# -lt 3 ]; then
    echo "usage: $0 SPECS STATE DATA [idc-sql refresh options...]" >&2
    exit 2
fi
specs=$1 state=$2 data=$3
shift 3
IDC_SQL=${IDC_SQL:-idc-sql}
S5CMD=${S5CMD:-s5cmd}
PYTHON=${PYTHON:-python3}
S3_ENDPOINT=${S3_ENDPOINT:-https://s3.amazonaws.com}

mkdir -p "$state" "$data" || exit 1
"$IDC_SQL" refresh "$specs"/*.yaml --state "$state" --json "$@" > "$state/last-run.json"
status=$?
case $status in
    0) echo "no cohort changed"; exit 0 ;;
    3) ;;  # a cohort changed: download below
    75) echo "another refresh of $state is running; trying again next time" >&2; exit 0 ;;
    *) exit 1 ;;
esac

# the manifests of what to download: one per cohort that has new series or new versions
"$PYTHON" -c '
import json, sys
for cohort in json.load(open(sys.argv[1]))["cohorts"]:
    if cohort["changed"] and cohort["added"] + cohort["revised"]:
        print(cohort["fetch"])
' "$state/last-run.json" > "$state/to-download.txt" || exit 1

failed=0
while read -r manifest; do
    echo "downloading $manifest"
    (cd "$data" && "$S5CMD" --no-sign-request --endpoint-url "$S3_ENDPOINT" run "$manifest") ||
        failed=1
done < "$state/to-download.txt"
exit $failed
