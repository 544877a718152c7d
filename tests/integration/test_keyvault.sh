#!/bin/bash
# cvmrestore unwrap against Key Vault and Managed HSM: net/keyvault.c through the CLI, talking
# to tests/servers/keyvault.py over HTTPS on loopback (names pinned with --resolve, test CA).
# Wrapped keys are made by the openssl CLI (pkeyutl RSA-OAEP / RSA-OAEP-256, enc -id-aes256-wrap
# and -id-aes256-wrap-pad): the check is that the vault's unwrap gives back the original key.
# Covers: the three algorithm families, a Managed HSM host (its own audience, checked through
# IMDS tokens), ADE BEK secrets wrapped (tags name KEK and algorithm) and unwrapped, the 401
# challenge (accepted for a matching resource, refused for another, no credential), a disabled
# key, tampered input, unknown key and secret, a malformed answer, a busy service. Finally every
# output and the server's log are searched for every token, key and passphrase (hex, base64,
# base64url): none may appear.
set -euo pipefail
: "${RP_SOURCE_DIR:?set RP_SOURCE_DIR to the source tree}"
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
. "$RP_SOURCE_DIR/tests/integration/servers.sh"
. "$RP_SOURCE_DIR/tests/integration/keyvault.sh"

T=$RP_TMP
OUT=$T/out   # every stdout and stderr, searched for secrets at the end
KEYS=$T/keys # key files written by unwrap (they hold keys by design: not searched)
mkdir -p "$OUT" "$KEYS"
N=0
SECRETS=$T/secrets.txt
: >"$SECRETS"
export RP_KV_RETRY_BASE_MS=10 RP_AUTH_RETRY_BASE_MS=10
unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_AUTHORITY_HOST

# run CODE ARGS...: cvmrestore unwrap ARGS, expect CODE; keep stdout and stderr in $OUT
run()
{
	local code=$1
	shift
	N=$((N + 1))
	expect_exit "$code" R unwrap "$@"
	cp "$RP_OUT" "$OUT/$N.stdout"
	cp "$RP_ERR" "$OUT/$N.stderr"
}

# remember FILE: add the bytes of FILE to the secrets, as hex, base64 and base64url (no padding)
remember()
{
	/usr/bin/python3 - "$1" >>"$SECRETS" <<'EOF'
import base64, sys
b = open(sys.argv[1], "rb").read()
print(b.hex())
print(base64.b64encode(b).decode().rstrip("="))
print(base64.urlsafe_b64encode(b).decode().rstrip("="))
EOF
}

b64url_file() { /usr/bin/python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(open(sys.argv[1],"rb").read()).decode().rstrip("="))' "$1"; }

# Keys and wrapped values, all by the openssl CLI
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/kek1.pem" 2>/dev/null
openssl pkey -in "$T/kek1.pem" -pubout -out "$T/kek1.pub"
openssl pkey -in "$T/kek1.pem" -outform DER -out "$T/kek1.der"
remember "$T/kek1.der"
AES256=$(openssl rand -hex 32)
AES128=$(openssl rand -hex 16)
unhex() { /usr/bin/python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$1"; }
unhex "$AES256" >"$T/aes256.bin"
unhex "$AES128" >"$T/aes128.bin"
remember "$T/aes256.bin"
remember "$T/aes128.bin"
for i in 1 2 3 4; do
	head -c 32 /dev/urandom >"$T/dek$i"
	remember "$T/dek$i"
done
head -c 20 /dev/urandom >"$T/dek5" # not a multiple of 8: RFC 5649 pads it
remember "$T/dek5"
oaep() { openssl pkeyutl -encrypt -pubin -inkey "$T/kek1.pub" -pkeyopt rsa_padding_mode:oaep "$@"; }
oaep -in "$T/dek1" -out "$T/dek1.rsa-oaep"
openssl pkeyutl -encrypt -pubin -inkey "$T/kek1.pub" -pkeyopt rsa_padding_mode:pkcs1 \
	-in "$T/dek4" -out "$T/dek4.rsa1_5"
oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in "$T/dek2" -out "$T/dek2.rsa-oaep-256"
openssl enc -id-aes256-wrap -iv A6A6A6A6A6A6A6A6 -K "$AES256" -in "$T/dek3" -out "$T/dek3.a256kw"
openssl enc -id-aes128-wrap -iv A6A6A6A6A6A6A6A6 -K "$AES128" -in "$T/dek4" -out "$T/dek4.a128kw"
openssl enc -id-aes256-wrap-pad -iv A65959A6 -K "$AES256" -in "$T/dek5" -out "$T/dek5.kwp"

# ADE BEKs (tests/integration/test_ade_bek.sh has the extension's own recipe): the passphrase
# is the base64 text of 127 random bytes; the secret holds that text wrapped (RSA-OAEP, then
# base64url), or base64 of it
head -c 127 /dev/urandom | base64 -w0 >"$T/pass1"
head -c 127 /dev/urandom | base64 -w0 >"$T/pass2"
remember "$T/pass1"
remember "$T/pass2"
base64 -w0 "$T/pass2" >"$T/pass2.b64"
remember "$T/pass2.b64"
oaep -in "$T/pass1" -out "$T/pass1.wrapped"

TOKEN=kvtok-$(openssl rand -hex 24)
echo "$TOKEN" >>"$SECRETS"
printf '%s\n' "$TOKEN" >"$T/token"
printf 'kvtok-wrong-%s\n' "$(openssl rand -hex 8)" >"$T/token-wrong"
tail -c +7 "$T/token-wrong" >>"$SECRETS"

srv_certs
PORT_PLACEHOLDER=0
VAULT_HOST=kv1.vault.azure.net
HSM_HOST=hsm1.managedhsm.azure.net

# conf [KEY=JSON]...: write the server config (keys, secrets, the token) with top-level overrides
conf()
{
	/usr/bin/python3 - "$T" "$TOKEN" "$AES256" "$AES128" "${KV_PORT:-$PORT_PLACEHOLDER}" "$@" \
		>"$T/kv.json.tmp" <<'EOF'
import base64, json, sys
t, token, aes256, aes128, port = sys.argv[1:6]
wrapped = base64.urlsafe_b64encode(open(t + "/pass1.wrapped", "rb").read()).decode().rstrip("=")
kek_url = "https://kv1.vault.azure.net:%s/keys/kek1/v1" % port
cfg = {
    "tokens": [token], "tenant": "tenant-kv",
    "keys": {
        "kek1": {"current": "v1", "versions": {"v1": {"pem": open(t + "/kek1.pem").read()}}},
        "aes256": {"current": "a1", "versions": {"a1": {"hex": aes256}}},
        "aes128": {"current": "b1", "versions": {"b1": {"hex": aes128}}},
        "off": {"current": "o1", "versions": {"o1": {"hex": aes256, "enabled": False}}},
    },
    "secrets": {
        "bek-wrapped": {"current": "s1", "versions": {"s1": {
            "value": wrapped, "contentType": "Wrapped BEK",
            "tags": {"DiskEncryptionKeyEncryptionAlgorithm": "RSA-OAEP",
                     "DiskEncryptionKeyEncryptionKeyURL": kek_url,
                     "DiskEncryptionKeyFileName": "LinuxPassPhraseFileName",
                     "MachineName": "vm1", "VolumeType": "OS"}}}},
        "bek-plain": {"current": "s2", "versions": {"s2": {
            "value": open(t + "/pass2.b64").read(), "contentType": "BEK",
            "tags": {"DiskEncryptionKeyFileName": "LinuxPassPhraseFileName_1_0",
                     "MachineName": "vm1"}}}},
    },
}
for a in sys.argv[6:]:
    k, v = a.split("=", 1)
    cfg[k] = json.loads(v)
print(json.dumps(cfg, indent=1))
EOF
	mv -f "$T/kv.json.tmp" "$T/kv.json"
}

conf
keyvault_start "$T/kv.json"
conf # again, now that the port (in the KEK URL tag) is known
VAULT=https://$VAULT_HOST:$KV_PORT
HSM=https://$HSM_HOST:$KV_PORT
PIN=(--cacert "$RP_CACERT" --resolve "$VAULT_HOST:$KV_PORT:127.0.0.1"
	--resolve "$HSM_HOST:$KV_PORT:127.0.0.1")
NET=("${PIN[@]}" --bearer-token-file "$T/token")

note "RSA-OAEP and RSA-OAEP-256 with a vault key (wrapped by openssl pkeyutl)"
run 0 --alg RSA-OAEP --kek-url "$VAULT/keys/kek1" --wrapped-file "$T/dek1.rsa-oaep" \
	-o "$KEYS/dek1" --json "${NET[@]}"
cmp "$KEYS/dek1" "$T/dek1" || fail "RSA-OAEP: unwrapped key differs"
json_check "$RP_OUT" "d['kek'] == '$VAULT/keys/kek1/v1'" "the report names the kid"
[ "$(stat -c %a "$KEYS/dek1")" = 600 ] || fail "key file mode is not 0600"
run 0 --alg RSA-OAEP-256 --kek-url "$VAULT/keys/kek1/v1" \
	--wrapped-b64 "$(b64url_file "$T/dek2.rsa-oaep-256")" -o "$KEYS/dek2" "${NET[@]}"
cmp "$KEYS/dek2" "$T/dek2" || fail "RSA-OAEP-256: unwrapped key differs"
[ "$(keyvault_log_count '^POST /keys/kek1(/v1)?/unwrapkey 200$')" = 2 ] || fail "server log: $(cat "$KV_LOG")"
run 0 --alg RSA1_5 --allow-rsa1_5 --kek-url "$VAULT/keys/kek1" --wrapped-file "$T/dek4.rsa1_5" \
	-o "$KEYS/dek4-rsa1_5" "${NET[@]}"
cmp "$KEYS/dek4-rsa1_5" "$T/dek4" || fail "RSA1_5: unwrapped key differs"
run 2 --alg RSA1_5 --kek-url "$VAULT/keys/kek1" --wrapped-file "$T/dek4.rsa1_5" \
	-o "$KEYS/x0" "${NET[@]}"
expect_stderr_has "rsa1_5"
pass "RSA-OAEP, RSA-OAEP-256, RSA1_5 (only with --allow-rsa1_5)"

note "AES key wrap on a Managed HSM host (openssl enc -id-aes*-wrap[-pad])"
run 0 --alg A256KW --kek-url "$HSM/keys/aes256" --wrapped-file "$T/dek3.a256kw" \
	-o "$KEYS/dek3" "${NET[@]}"
cmp "$KEYS/dek3" "$T/dek3" || fail "A256KW: unwrapped key differs"
run 0 --alg A128KW --kek-url "$HSM/keys/aes128" --wrapped-file "$T/dek4.a128kw" \
	-o "$KEYS/dek4" "${NET[@]}"
cmp "$KEYS/dek4" "$T/dek4" || fail "A128KW: unwrapped key differs"
run 0 --alg CKM_AES_KEY_WRAP_PAD --kek-url "$HSM/keys/aes256" --wrapped-file "$T/dek5.kwp" \
	-o "$KEYS/dek5" "${NET[@]}"
cmp "$KEYS/dek5" "$T/dek5" || fail "CKM_AES_KEY_WRAP_PAD: unwrapped key differs"
run 5 --alg A256KW --kek-url "$HSM/keys/aes128" --wrapped-file "$T/dek3.a256kw" \
	-o "$KEYS/x1" "${NET[@]}"
expect_stderr_has "key vault could not unwrap with $HSM/keys/aes128 (A256KW): BadParameter"
pass "A256KW, A128KW, CKM_AES_KEY_WRAP_PAD; A256KW with a 128-bit key refused"

note "ADE BEK secrets: wrapped (tags name the KEK and algorithm) and unwrapped"
run 0 --secret-url "$VAULT/secrets/bek-wrapped" -o "$KEYS/pass1" --json "${NET[@]}"
cmp "$KEYS/pass1" "$T/pass1" || fail "wrapped BEK: passphrase differs"
json_check "$RP_OUT" "d['algorithm'] == 'RSA-OAEP' and d['length'] == 172" "report of the wrapped BEK"
run 0 --secret-url "$VAULT/secrets/bek-plain/s2" -o "$KEYS/pass2" "${NET[@]}"
cmp "$KEYS/pass2" "$T/pass2" || fail "unwrapped BEK: passphrase differs"
run 2 --secret-url "$VAULT/secrets/nope" -o "$KEYS/x2" "${NET[@]}"
expect_stderr_has "secret not found: $VAULT/secrets/nope (SecretNotFound"
run 2 --alg RSA-OAEP --kek-url "$VAULT/keys/nokey" --wrapped-file "$T/dek1.rsa-oaep" \
	-o "$KEYS/x3" "${NET[@]}"
expect_stderr_has "key not found: $VAULT/keys/nokey (KeyNotFound"
pass "wrapped and unwrapped BEK; unknown secret and key: exit 2"

note "a disabled key, tampered input, a wrong token"
run 5 --alg A256KW --kek-url "$VAULT/keys/off" --wrapped-file "$T/dek3.a256kw" -o "$KEYS/x4" \
	"${NET[@]}"
expect_stderr_has "key vault: Forbidden: Operation unwrapKey is not allowed on a disabled key. (KeyDisabled)"
cp "$T/dek1.rsa-oaep" "$T/tampered"
it_flip_byte "$T/tampered" 100
run 5 --alg RSA-OAEP --kek-url "$VAULT/keys/kek1" --wrapped-file "$T/tampered" -o "$KEYS/x5" \
	"${NET[@]}"
expect_stderr_has "key vault could not unwrap with $VAULT/keys/kek1 (RSA-OAEP): BadParameter"
cp "$T/dek3.a256kw" "$T/tampered2"
it_flip_byte "$T/tampered2" 3
run 5 --alg A256KW --kek-url "$HSM/keys/aes256" --wrapped-file "$T/tampered2" -o "$KEYS/x6" \
	"${NET[@]}"
expect_stderr_has "could not unwrap with $HSM/keys/aes256 (A256KW)"
run 5 --alg RSA-OAEP --kek-url "$VAULT/keys/kek1" --wrapped-file "$T/dek1.rsa-oaep" \
	-o "$KEYS/x7" "${PIN[@]}" --bearer-token-file "$T/token-wrong"
expect_stderr_has "key vault: Unauthorized: AKV10022"
[ ! -e "$KEYS/x5" ] && [ ! -e "$KEYS/x7" ] || fail "a failed unwrap left a key file"
pass "disabled key, tampered RSA and AES input, wrong token: exit 5"

note "the 401 challenge: no credential; a wrong resource; a matching resource with IMDS tokens"
run 5 --alg RSA-OAEP --kek-url "$VAULT/keys/kek1" --wrapped-file "$T/dek1.rsa-oaep" \
	-o "$KEYS/x8" "${PIN[@]}"
expect_stderr_has "key vault $VAULT_HOST needs a token; give --bearer-token-file, --identity or --client-credentials"
conf 'resource="https://vault.evil.test"'
run 5 --alg RSA-OAEP --kek-url "$VAULT/keys/kek1" --wrapped-file "$T/dek1.rsa-oaep" \
	-o "$KEYS/x9" "${PIN[@]}"
expect_stderr_has "key vault $VAULT_HOST: refused its 401 challenge: the resource host 'vault.evil.test' is not $VAULT_HOST"
: >"$KV_LOG.auth"
run 5 --alg RSA-OAEP --kek-url "$VAULT/keys/kek1" --wrapped-file "$T/dek1.rsa-oaep" \
	-o "$KEYS/x10" "${PIN[@]}" --bearer-token-file "$T/token"
expect_stderr_has "refused its 401 challenge"
# The token goes to a host only after its challenge named the host's own domain: a vault that
# names another resource (or a KEK URL from a secret's tag pointing anywhere) never gets it.
[ "$(grep -c . "$KV_LOG.auth")" = 1 ] && grep -q " none$" "$KV_LOG.auth" ||
	fail "the token went to a host whose challenge was refused: $(cat "$KV_LOG.auth")"
tokenserver_start
# IMDS tokens carry aud = the resource asked for; the server accepts a token whose aud is the
# resource of the host: https://vault.azure.net, https://managedhsm.azure.net, or the override
conf 'accept_jwt=true' 'tokens=[]'
IMDS=("${PIN[@]}" --identity --imds-endpoint "$TOKEN_URL")
run 0 --alg RSA-OAEP --kek-url "$VAULT/keys/kek1" --wrapped-file "$T/dek1.rsa-oaep" \
	-o "$KEYS/dek1-imds" "${IMDS[@]}"
cmp "$KEYS/dek1-imds" "$T/dek1" || fail "IMDS: unwrapped key differs"
run 0 --alg A256KW --kek-url "$HSM/keys/aes256" --wrapped-file "$T/dek3.a256kw" \
	-o "$KEYS/dek3-imds" "${IMDS[@]}"
cmp "$KEYS/dek3-imds" "$T/dek3" || fail "IMDS on the HSM: unwrapped key differs"
grep -q '"resource": "https://managedhsm.azure.net"' "$TOKEN_LOG" || fail "no HSM-audience token"
before=$(keyvault_log_count ' 401$')
conf 'accept_jwt=true' 'tokens=[]' "resource=\"https://$VAULT_HOST\""
run 0 --alg RSA-OAEP --kek-url "$VAULT/keys/kek1" --wrapped-file "$T/dek1.rsa-oaep" \
	-o "$KEYS/dek1-chal" "${IMDS[@]}"
cmp "$KEYS/dek1-chal" "$T/dek1" || fail "after the challenge: unwrapped key differs"
[ "$(keyvault_log_count ' 401$')" = $((before + 1)) ] || fail "no 401 before the success"
grep -q "\"resource\": \"https://$VAULT_HOST\"" "$TOKEN_LOG" || fail "no token for the challenge's resource"
pass "challenge: no credential, wrong resource (exit 5); matching resource answered with a new token"

note "a malformed answer (exit 3), a busy service (retried; then exit 4), a bad URL (exit 2)"
conf 'garbage=true'
run 3 --alg RSA-OAEP --kek-url "$VAULT/keys/kek1" --wrapped-file "$T/dek1.rsa-oaep" \
	-o "$KEYS/x11" "${NET[@]}"
expect_stderr_has "$VAULT/keys/kek1/unwrapkey: key vault answer: invalid JSON"
run 3 --secret-url "$VAULT/secrets/bek-plain" -o "$KEYS/x12" "${NET[@]}"
expect_stderr_has "$VAULT/secrets/bek-plain: key vault secret: invalid JSON"
conf 'busy=2'
run 0 --alg RSA-OAEP --kek-url "$VAULT/keys/kek1" --wrapped-file "$T/dek1.rsa-oaep" \
	-o "$KEYS/dek1-busy" "${NET[@]}"
cmp "$KEYS/dek1-busy" "$T/dek1" || fail "after 503s: unwrapped key differs"
conf 'busy=100'
run 4 --alg RSA-OAEP --kek-url "$VAULT/keys/kek1" --wrapped-file "$T/dek1.rsa-oaep" \
	-o "$KEYS/x13" "${NET[@]}"
expect_stderr_has "key vault: ServiceUnavailable: The service is busy. (HTTP 503 from $VAULT/keys/kek1/unwrapkey; gave up after 4 attempts)"
conf
run 2 --alg RSA-OAEP --kek-url "$VAULT/keys/kek1?api-version=7.4&sig=c2VjcmV0" \
	--wrapped-file "$T/dek1.rsa-oaep" -o "$KEYS/x14" "${NET[@]}"
expect_stderr_has "'$VAULT/keys/kek1' is not a key vault key URL"
grep -q c2VjcmV0 "$RP_ERR" && fail "the query was quoted"
run 2 --alg RSA-OAEP --kek-url "$VAULT/secrets/kek1" --wrapped-file "$T/dek1.rsa-oaep" \
	-o "$KEYS/x15" "${NET[@]}"
expect_stderr_has "is not a key vault key URL"
pass "malformed answers, busy service, bad URLs"

note "a client-side encrypted blob whose content key the vault's RSA key wraps (restore --kek-url)"
it_make_raw "$T/cse.raw" $((6 * 1048576)) 0 2 5
"$CVMRESTORE" convert "$T/cse.raw" "$T/cse-plain.vhd" >/dev/null 2>&1 || fail "convert failed"
$PY "$RP_SOURCE_DIR/tests/gen/cse_encrypt.py" "$T/cse-plain.vhd" "$T/cse.blob" "$T/cse.meta" \
	--kek-rsa-pub "$T/kek1.pub" --cek-out "$T/cse.cek"
cat "$T/cse.cek" >>"$SECRETS"
azurite_start
blobtool create-container kvblobs >/dev/null
blobtool put-blob kvblobs/enc.vhd "$T/cse.blob" >/dev/null
blobtool set-metadata kvblobs/enc.vhd "encryptiondata=$(cat "$T/cse.meta")" >/dev/null
N=$((N + 1))
expect_exit 0 R restore "$(azurite_sas kvblobs/enc.vhd)" -o "$KEYS/cse.vhd" -q --json \
	--kek-url "$VAULT/keys/kek1" "${NET[@]}"
cp "$RP_OUT" "$OUT/$N.stdout"
cp "$RP_ERR" "$OUT/$N.stderr"
cmp "$KEYS/cse.vhd" "$T/cse-plain.vhd" || fail "--kek-url: the decrypted disk differs"
json_check "$RP_OUT" "d['client_side_encryption']['content_key']['kek'] == '$VAULT/keys/kek1/v1' and d['client_side_encryption']['content_key']['kek_type'] == 'key vault'" \
	"the report does not name the vault key: $(cat "$RP_OUT")"
[ "$(keyvault_log_count '^POST /keys/kek1/unwrapkey 200$')" -ge 1 ] || fail "the vault was not asked"
pass "restore of an encrypted blob with the content key unwrapped by the vault"

note "no token, key or passphrase in any output or log"
tokenserver_stop
grep -o '"access_token": "[^"]*"' "$TOKEN_LOG" | cut -d'"' -f4 >>"$SECRETS"
n=$(/usr/bin/python3 - "$SECRETS" "$OUT" "$KV_LOG" <<'EOF'
import os, sys
secrets = [l.strip() for l in open(sys.argv[1]) if l.strip()]
files = [os.path.join(sys.argv[2], f) for f in sorted(os.listdir(sys.argv[2]))] + [sys.argv[3]]
for path in files:
    data = open(path, "rb").read().decode("latin-1")
    for i, s in enumerate(secrets):
        if s in data:
            sys.exit("a secret (#%d, %d characters) appears in %s" % (i, len(s), path))
print(len(secrets))
EOF
) || fail "secret leak"
[ "$n" -ge 30 ] || fail "only $n secrets searched"
[ "$(grep -c . "$KV_LOG")" -ge 20 ] || fail "the server log is too short: $(wc -l <"$KV_LOG")"
pass "$n secrets searched in $(ls "$OUT" | wc -l) outputs and the server log"
echo "test_keyvault: $PASSED groups passed"
