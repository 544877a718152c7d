#!/bin/bash
# make-keys.sh [DIR]
#
# The sample recovery point's key material, made with the openssl CLI (DIR: this script's
# directory by default):
#   kek.pem                  a local key encryption key: RSA-2048, PKCS#8 PEM. A demo value in a
#                            public repository: it protects nothing.
#   luks-passphrase.wrapped  passphrase.txt (the LUKS2 partition's passphrase) wrapped with
#                            RSA-OAEP-256 by kek.pem, as a customer-managed key would wrap a disk
#                            key; `cvmrestore unwrap --alg RSA-OAEP-256 --kek-file kek.pem
#                            --wrapped-file luks-passphrase.wrapped -o -` gives it back.
# OAEP is randomized: each run makes a different wrapped file for the same passphrase.
set -euo pipefail
dir=$(realpath "${1:-$(dirname "$0")}")
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/kek.pem" 2>/dev/null
openssl pkeyutl -encrypt -inkey "$dir/kek.pem" -pkeyopt rsa_padding_mode:oaep \
	-pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 \
	-in "$dir/passphrase.txt" -out "$dir/luks-passphrase.wrapped"
# check: openssl unwraps it again
openssl pkeyutl -decrypt -inkey "$dir/kek.pem" -pkeyopt rsa_padding_mode:oaep \
	-pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 \
	-in "$dir/luks-passphrase.wrapped" | cmp -s - "$dir/passphrase.txt"
