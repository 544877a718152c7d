#!/usr/bin/env bash
# make demo: the offline job on the bundled sample recovery point (testdata/sample-rp):
# inspect the OS disk, then verify it chunk by chunk against its seal.
set -eu
bin=${1:-build/cvmrestore}
here=$(cd "$(dirname "$0")/.." && pwd)
rp=$here/testdata/sample-rp

echo "== cvmrestore inspect $rp/os-disk.vhd"
"$bin" inspect "$rp/os-disk.vhd"
echo
echo "== cvmrestore verify $rp/os-disk.vhd --seal $rp/os-disk.seal.json --digests sha256,md5,sha1"
"$bin" verify "$rp/os-disk.vhd" --seal "$rp/os-disk.seal.json" --digests sha256,md5,sha1
