#!/bin/bash
# run.sh [CVMRESTORE]: run every benchmark (make bench calls this). Numbers only: benchmarks
# never fail on speed. bench_restore.sh starts nginx and Azurite on 127.0.0.1 (tests/integration/
# servers.sh). Work files under ${BENCH_DIR:-/tmp/cvmrestore-bench}, removed at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ge 1 ]; then
	export CVMRESTORE=$1
fi
. "$here/lib.sh"
bench_header
bash "$here/bench_verify.sh"
bash "$here/bench_convert.sh"
bash "$here/bench_restore.sh"
bash "$here/bench_upload.sh"
bash "$here/bench_nbd.sh"
bash "$here/bench_seal.sh"
echo "load average at end: $(cut -d" " -f1-3 /proc/loadavg)"
