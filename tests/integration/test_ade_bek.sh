#!/bin/bash
# ADE BEK secrets made the way the Azure Disk Encryption extension makes them, unwrapped by
# `cvmrestore unwrap --secret-url`, and the key file it writes opens the LUKS volume.
#
# The extension's public source (Azure/azure-linux-extensions, VMEncryption/main):
#   BekUtil.generate_passphrase      the Linux passphrase is base64.b64encode(127 random bytes):
#                                    that text is given to cryptsetup luksFormat --key-file
#   KeyVaultUtil.create_kek_secret   (older extensions) value = standard base64 of the key file;
#                                    with a KEK, POST wrapkey {"alg", "value": that base64} and
#                                    the secret's value is wrapkey's answer; tags
#                                    DiskEncryptionKeyFileName (+ DiskEncryptionKeyEncryption-
#                                    Algorithm with a KEK): the KEK itself is not named
#   EncryptionSettingsUtil           (newer extensions) the host stores the protector file with
#                                    the tags DiskEncryptionKeyFileName, DiskEncryptionKeyEncryption-
#                                    KeyURL, DiskEncryptionKeyEncryptionAlgorithm, MachineName
# Windows keeps a binary BitLocker key file (.BEK) the same way: it must come out byte-exact.
# Key Vault is tests/servers/keyvault.py (its wrapkey does the wrapping, as the service would).
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"
. "$RP_SOURCE_DIR/tests/integration/keyvault.sh"

T=$RP_TMP
KEYS=$T/keys # key files written by unwrap (they hold keys by design)
OUTS=$T/outs # every stdout and stderr, searched for the keys at the end
mkdir -p "$KEYS" "$OUTS"
N=0
export RP_KV_RETRY_BASE_MS=10
unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_AUTHORITY_HOST

run()
{
	local code=$1
	shift
	N=$((N + 1))
	expect_exit "$code" "$CVMRESTORE" unwrap "$@"
	cp "$RP_OUT" "$OUTS/$N.stdout"
	cp "$RP_ERR" "$OUTS/$N.stderr"
}

# The key files: a Linux passphrase exactly as generate_passphrase makes it, and a binary BEK.
$PY -c 'import base64,os,sys; sys.stdout.buffer.write(base64.b64encode(os.urandom(127)))' \
	>"$T/linux.pass"
[ "$(wc -c <"$T/linux.pass")" = 172 ] || fail "the passphrase is not 172 characters"
head -c 124 /dev/urandom >"$T/windows.bek"

# A LUKS2 and a LUKS1 volume formatted with the passphrase text, as the extension does.
FAST=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000 -q)
for v in luks2 luks1; do
	truncate -s 32M "$T/$v.img"
	cryptsetup luksFormat --type "$v" "${FAST[@]}" --key-file "$T/linux.pass" "$T/$v.img" ||
		fail "cryptsetup luksFormat $v failed"
done

TOKEN=kvtok-$(openssl rand -hex 24)
printf '%s\n' "$TOKEN" >"$T/token"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/kek.pem" 2>/dev/null
VAULT_HOST=kv1.vault.azure.net

# conf [SECRETS_JSON]: the server config with the KEK and the given secrets
conf()
{
	$PY - "$T" "$TOKEN" "${1:-{\}}" >"$T/kv.json.tmp" <<'EOF'
import json, sys
t, token, secrets = sys.argv[1:4]
print(json.dumps({"tokens": [token], "tenant": "tenant-ade",
                  "keys": {"kek": {"current": "k1", "versions": {"k1": {
                      "pem": open(t + "/kek.pem").read()}}}},
                  "secrets": json.loads(secrets)}, indent=1))
EOF
	mv -f "$T/kv.json.tmp" "$T/kv.json"
}
conf
keyvault_start "$T/kv.json"
VAULT=https://$VAULT_HOST:$KV_PORT
NET=(--cacert "$RP_CACERT" --resolve "$VAULT_HOST:$KV_PORT:127.0.0.1" --bearer-token-file "$T/token")

# wrapkey FILE: what the extension does with a KEK: POST wrapkey with the standard base64 of the
# key file's bytes; prints the answer's value (the secret's value)
wrapkey()
{
	local body
	body=$($PY -c 'import base64,json,sys; print(json.dumps({"alg": "RSA-OAEP", "value": base64.standard_b64encode(open(sys.argv[1],"rb").read()).decode()}))' "$1")
	curl -sS --fail --cacert "$RP_CACERT" --resolve "$VAULT_HOST:$KV_PORT:127.0.0.1" \
		-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data "$body" "$VAULT/keys/kek/k1/wrapkey?api-version=7.4" |
		$PY -c 'import json,sys; print(json.load(sys.stdin)["value"])'
}
b64() { base64 -w0 "$1"; }

note "secrets made as the older and newer extensions make them"
LW=$(wrapkey "$T/linux.pass")
WW=$(wrapkey "$T/windows.bek")
KID=$VAULT/keys/kek/k1
conf "$($PY - "$KID" "$LW" "$WW" "$(b64 "$T/linux.pass")" "$(b64 "$T/windows.bek")" <<'EOF'
import json, sys
kid, lw, ww, lp, wp = sys.argv[1:6]
def sec(value, ctype, tags):
    return {"current": "s1", "versions": {"s1": {"value": value, "contentType": ctype, "tags": tags}}}
new_tags = {"DiskEncryptionKeyFileName": "LinuxPassPhraseFileName",
            "DiskEncryptionKeyEncryptionKeyURL": kid,
            "DiskEncryptionKeyEncryptionAlgorithm": "RSA-OAEP", "MachineName": "vm1"}
print(json.dumps({
    # older extension (KeyVaultUtil.create_kek_secret): no KEK URL tag
    "old-plain": sec(lp, "BEK", {"DiskEncryptionKeyFileName": "LinuxPassPhraseFileName"}),
    "old-wrapped": sec(lw, "Wrapped BEK", {"DiskEncryptionKeyEncryptionAlgorithm": "RSA-OAEP",
                                           "DiskEncryptionKeyFileName": "LinuxPassPhraseFileName"}),
    # newer extension (EncryptionSettingsUtil: the host stores the protector file)
    "new-wrapped": sec(lw, "Wrapped BEK", new_tags),
    "new-plain": sec(lp, "BEK", {"DiskEncryptionKeyFileName": "LinuxPassPhraseFileName",
                                 "MachineName": "vm1"}),
    # Windows: the binary .BEK file
    "win-wrapped": sec(ww, "Wrapped BEK", dict(new_tags, DiskEncryptionKeyFileName="B3284AAA.BEK")),
    "win-plain": sec(wp, "BEK", {"DiskEncryptionKeyFileName": "B3284AAA.BEK", "MachineName": "vm1"}),
}))
EOF
)"
run 0 --secret-url "$VAULT/secrets/new-wrapped" -o "$KEYS/new-wrapped" "${NET[@]}" --json
json_check "$RP_OUT" "d['length'] == 172 and d['algorithm'] == 'RSA-OAEP' and d['kek'] == '$KID'" \
	"the report of the newer wrapped secret: $(cat "$RP_OUT")"
run 0 --secret-url "$VAULT/secrets/new-plain" -o "$KEYS/new-plain" "${NET[@]}"
run 0 --secret-url "$VAULT/secrets/old-plain" -o "$KEYS/old-plain" "${NET[@]}"
# the older wrapped secret names its algorithm but not its KEK: --kek-url is needed
run 2 --secret-url "$VAULT/secrets/old-wrapped" -o "$KEYS/x1" "${NET[@]}"
[ ! -e "$KEYS/x1" ] || fail "a failed unwrap left a key file"
run 0 --secret-url "$VAULT/secrets/old-wrapped" --kek-url "$VAULT/keys/kek" \
	-o "$KEYS/old-wrapped" "${NET[@]}"
for k in new-wrapped new-plain old-plain old-wrapped; do
	cmp "$KEYS/$k" "$T/linux.pass" || fail "$k: the key file is not the passphrase text"
done
pass "Linux: older and newer extensions' secrets, with and without a KEK, give the passphrase text"

run 0 --secret-url "$VAULT/secrets/win-wrapped" -o "$KEYS/win-wrapped" "${NET[@]}"
run 0 --secret-url "$VAULT/secrets/win-plain" -o "$KEYS/win-plain" "${NET[@]}"
cmp "$KEYS/win-wrapped" "$T/windows.bek" || fail "win-wrapped: the BEK file differs"
cmp "$KEYS/win-plain" "$T/windows.bek" || fail "win-plain: the BEK file differs"
pass "Windows: the binary BEK file comes out byte-exact, with and without a KEK"

note "the key files open the volumes (cvmrestore luks, and cryptsetup itself)"
for v in luks2 luks1; do
	for k in new-wrapped old-wrapped old-plain; do
		expect_exit 0 "$CVMRESTORE" luks "$T/$v.img" --key-file "$KEYS/$k"
		cryptsetup open --test-passphrase --key-file "$KEYS/$k" "$T/$v.img" ||
			fail "cryptsetup does not open $v with the key file from $k"
	done
done
expect_exit 1 "$CVMRESTORE" luks "$T/luks2.img" --key-file "$KEYS/win-plain"
pass "every Linux key file opens LUKS1 and LUKS2 (a wrong key file does not)"

note "no key in any output or in the server's log"
$PY - "$T" "$OUTS" "$KV_LOG" <<'EOF' || fail "a key leaked"
import base64, os, sys
t, outs, log = sys.argv[1:4]
secrets = []
for f in ("linux.pass", "windows.bek"):
    b = open(os.path.join(t, f), "rb").read()
    secrets += [b.hex(), base64.b64encode(b).decode().rstrip("="), b[:40].decode("latin-1")]
for path in [os.path.join(outs, f) for f in os.listdir(outs)] + [log]:
    data = open(path, "rb").read().decode("latin-1")
    for s in secrets:
        if s in data:
            sys.exit("a key appears in %s" % path)
EOF
pass "no key in $(ls "$OUTS" | wc -l) outputs or the server log"
echo "test_ade_bek: $PASSED groups passed"
