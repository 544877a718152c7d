#!/bin/bash
# cvmrestore unwrap with local KEKs (issue 4, section 1): every wrapped key is made by the openssl
# CLI (RSA-OAEP, RSA-OAEP-256, RSA1_5 with pkeyutl; RFC 3394 and RFC 5649 with enc
# -id-aesNNN-wrap[-pad]), every JWK by Python's cryptography; our unwrap must give back the
# original key byte for byte. Then each malformed or wrong input: its exit code and message.
# Finally every output is searched for every key, in hex and base64.
. "$RP_SOURCE_DIR/tests/integration/lib.sh"
rp_tmpdir
T=$RP_TMP
IN=$T/in
K=$T/keys
LOG=$T/log
mkdir -p "$IN" "$K" "$LOG"
SECRETS=$IN/secrets.hex
PASSED=0
pass() { PASSED=$((PASSED + 1)); note "ok: $*"; }
n=0
# run CODE ARGS...: expect_exit, keeping every stdout and stderr for the secret search.
run() {
	expect_exit "$@"
	n=$((n + 1))
	cp "$RP_OUT" "$LOG/$n.out"
	cp "$RP_ERR" "$LOG/$n.err"
}
secret_file() { od -An -tx1 -v "$1" | tr -d ' \n' >>"$SECRETS"; echo >>"$SECRETS"; }
hex() { od -An -tx1 -v "$1" | tr -d ' \n'; }

note "key material"
head -c 32 /dev/urandom >"$IN/key32"
head -c 20 /dev/urandom >"$IN/key20"
secret_file "$IN/key32"
secret_file "$IN/key20"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$IN/kek.pem" 2>/dev/null
openssl pkey -in "$IN/kek.pem" -pubout -out "$IN/kek.pub"
openssl rsa -in "$IN/kek.pem" -traditional -out "$IN/kek-pkcs1.pem" 2>/dev/null
grep -q 'BEGIN RSA PRIVATE KEY' "$IN/kek-pkcs1.pem" || fail "openssl did not write PKCS#1"
printf 'kek-pem-passphrase\n' >"$IN/kek.pass"
openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$IN/kek.pem" -passout file:"$IN/kek.pass" \
	-out "$IN/kek-enc.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$IN/other.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$IN/ec.pem" 2>/dev/null
$PY "$RP_SOURCE_DIR/tests/gen/keygen.py" jwk-rsa "$IN/kek.pem" "$IN/kek.jwk"
$PY "$RP_SOURCE_DIR/tests/gen/keygen.py" jwk-rsa-nocrt "$IN/kek.pem" "$IN/kek-nocrt.jwk"
$PY "$RP_SOURCE_DIR/tests/gen/keygen.py" jwk-rsa-public "$IN/kek.pem" "$IN/kek-public.jwk"
for bits in 128 192 256; do
	head -c $((bits / 8)) /dev/urandom >"$IN/aes$bits"
	secret_file "$IN/aes$bits"
done
$PY "$RP_SOURCE_DIR/tests/gen/keygen.py" jwk-oct "$IN/aes256" "$IN/aes256.jwk"
# The RSA private exponent, so the search covers the KEK itself.
openssl rsa -in "$IN/kek.pem" -noout -text 2>/dev/null |
	sed -n '/privateExponent/,/prime1/p' | sed '1d;$d' | tr -d ' :\n' >>"$SECRETS"
echo >>"$SECRETS"

note "wrapped by openssl"
oaep() { openssl pkeyutl -encrypt -pubin -inkey "$IN/kek.pub" -in "$1" -out "$2" "${@:3}"; }
oaep "$IN/key32" "$IN/w.oaep" -pkeyopt rsa_padding_mode:oaep
oaep "$IN/key32" "$IN/w.oaep256" -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \
	-pkeyopt rsa_mgf1_md:sha256
oaep "$IN/key32" "$IN/w.rsa15" -pkeyopt rsa_padding_mode:pkcs1
for bits in 128 192 256; do
	openssl enc -id-aes$bits-wrap -iv A6A6A6A6A6A6A6A6 -K "$(hex "$IN/aes$bits")" \
		-in "$IN/key32" -out "$IN/w.kw$bits"
	openssl enc -id-aes$bits-wrap-pad -iv A65959A6 -K "$(hex "$IN/aes$bits")" \
		-in "$IN/key20" -out "$IN/w.kwp$bits"
done
# The RFC 3394 4.6 vector, to be sure the openssl CLI wraps as the RFC says on this machine.
printf '\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f' >"$IN/rfc.key"
got=$(openssl enc -id-aes256-wrap -iv A6A6A6A6A6A6A6A6 \
	-K 000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F -in "$IN/rfc.key" |
	od -An -tx1 -v | tr -d ' \n')
[ "$got" = 28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21 ] ||
	fail "openssl's AES key wrap does not give the RFC 3394 vector: $got"
pass "openssl reproduces the RFC 3394 vector"

# unwrap_ok NAME EXPECTED ARGS...: unwrap into a new key file that must equal EXPECTED.
unwrap_ok() {
	local name=$1 want=$2
	shift 2
	run 0 "$CVMRESTORE" unwrap "$@" -o "$K/$name"
	cmp -s "$K/$name" "$want" || fail "$name: the unwrapped key differs from the original"
	[ "$(stat -c %a "$K/$name")" = 600 ] || fail "$name: key file mode $(stat -c %a "$K/$name")"
	! compgen -G "$K/$name.tmp-*" >/dev/null || fail "$name: a temporary file was left behind"
}

unwrap_ok oaep-pkcs8 "$IN/key32" --alg RSA-OAEP --kek-file "$IN/kek.pem" --wrapped-file "$IN/w.oaep"
unwrap_ok oaep-pkcs1 "$IN/key32" --alg RSA-OAEP --kek-file "$IN/kek-pkcs1.pem" \
	--wrapped-file "$IN/w.oaep"
unwrap_ok oaep256 "$IN/key32" --alg RSA-OAEP-256 --kek-file "$IN/kek.pem" \
	--wrapped-file "$IN/w.oaep256"
unwrap_ok oaep-enc "$IN/key32" --alg RSA-OAEP --kek-file "$IN/kek-enc.pem" \
	--kek-pass-file "$IN/kek.pass" --wrapped-file "$IN/w.oaep"
unwrap_ok oaep-jwk "$IN/key32" --alg RSA-OAEP-256 --kek-file "$IN/kek.jwk" \
	--wrapped-file "$IN/w.oaep256"
unwrap_ok oaep-jwk-nocrt "$IN/key32" --alg RSA-OAEP --kek-file "$IN/kek-nocrt.jwk" \
	--wrapped-file "$IN/w.oaep"
unwrap_ok oaep-b64 "$IN/key32" --alg RSA-OAEP --kek-file "$IN/kek.pem" \
	--wrapped-b64 "$(base64 -w0 "$IN/w.oaep")"
unwrap_ok oaep-b64url "$IN/key32" --alg RSA-OAEP --kek-file "$IN/kek.pem" \
	--wrapped-b64 "$(base64 -w0 "$IN/w.oaep" | tr '+/' '-_' | tr -d '=')"
pass "RSA-OAEP and RSA-OAEP-256: PKCS#8, PKCS#1, encrypted PEM, JWK with and without CRT, base64, base64url"
unwrap_ok rsa15 "$IN/key32" --alg RSA1_5 --allow-rsa1_5 --kek-file "$IN/kek.pem" \
	--wrapped-file "$IN/w.rsa15"
pass "RSA1_5 with --allow-rsa1_5"
for bits in 128 192 256; do
	unwrap_ok kw$bits "$IN/key32" --alg A${bits}KW --kek-file "$IN/aes$bits" \
		--wrapped-file "$IN/w.kw$bits"
	unwrap_ok ckm$bits "$IN/key32" --alg CKM_AES_KEY_WRAP --kek-file "$IN/aes$bits" \
		--wrapped-file "$IN/w.kw$bits"
	unwrap_ok kwp$bits "$IN/key20" --alg CKM_AES_KEY_WRAP_PAD --kek-file "$IN/aes$bits" \
		--wrapped-file "$IN/w.kwp$bits"
done
unwrap_ok kw-jwk "$IN/key32" --alg A256KW --kek-file "$IN/aes256.jwk" --wrapped-file "$IN/w.kw256"
pass "A128KW, A192KW, A256KW, CKM_AES_KEY_WRAP (RFC 3394) and _PAD (RFC 5649), raw and JWK KEKs"

note "-o - into a pipe, and the JSON report"
"$CVMRESTORE" unwrap --alg A256KW --kek-file "$IN/aes256" --wrapped-file "$IN/w.kw256" -o - \
	2>"$LOG/pipe.err" | cat >"$K/piped"
cmp -s "$K/piped" "$IN/key32" || fail "-o - did not give the key into the pipe"
run 0 "$CVMRESTORE" unwrap --alg RSA-OAEP-256 --kek-file "$IN/kek.pem" \
	--wrapped-file "$IN/w.oaep256" -o "$K/json-key" --json
it_json_only "$RP_OUT"
json_check "$RP_OUT" 'd["algorithm"] == "RSA-OAEP-256" and d["length"] == 32 and d["kek_type"] == "RSA-2048" and d["kek"].endswith("kek.pem")' \
	"the JSON report lacks the key facts: $(cat "$RP_OUT")"
pass "-o - into a pipe; --json names algorithm, KEK and length"
if command -v script >/dev/null; then
	script -qec "$CVMRESTORE unwrap --alg A256KW --kek-file $IN/aes256 --wrapped-file $IN/w.kw256 -o -" \
		/dev/null >"$LOG/tty.out" 2>&1 && fail "-o - to a terminal was not refused"
	grep -q 'never a terminal' "$LOG/tty.out" || fail "-o - to a terminal: $(cat "$LOG/tty.out")"
	pass "-o - to a terminal is refused"
fi

note "failures"
# bad CODE MESSAGE ARGS...
bad() {
	local code=$1 msg=$2
	shift 2
	rm -f "$K/bad"
	run "$code" "$CVMRESTORE" unwrap "$@" -o "$K/bad"
	expect_one_error_line "cvmrestore: unwrap: "
	expect_stderr_has "$msg"
	[ ! -e "$K/bad" ] || fail "a failed unwrap left a key file ($*)"
}
bad 5 "RSA-OAEP unwrap with $IN/other.pem (RSA-2048) failed" --alg RSA-OAEP \
	--kek-file "$IN/other.pem" --wrapped-file "$IN/w.oaep"
cp "$IN/w.oaep" "$IN/w.oaep.bad"
it_flip_byte "$IN/w.oaep.bad" 100 # inverted: a random byte may already hold any fixed value
bad 5 "the key is not the one that wrapped it, or the wrapped key was altered" --alg RSA-OAEP \
	--kek-file "$IN/kek.pem" --wrapped-file "$IN/w.oaep.bad"
bad 5 "RSA-OAEP-256 unwrap" --alg RSA-OAEP-256 --kek-file "$IN/kek.pem" --wrapped-file "$IN/w.oaep"
cp "$IN/w.kw256" "$IN/w.kw.bad"
it_flip_byte "$IN/w.kw.bad" 9
bad 5 "A256KW unwrap with $IN/aes256 (AES-256) failed the integrity check" --alg A256KW \
	--kek-file "$IN/aes256" --wrapped-file "$IN/w.kw.bad"
bad 5 "failed the integrity check" --alg CKM_AES_KEY_WRAP --kek-file "$IN/aes128" \
	--wrapped-file "$IN/w.kw256"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$IN/kek3072.pem" 2>/dev/null
bad 5 "the wrapped key has 256 bytes, but this key wraps to 384: it is not the KEK that wrapped it" \
	--alg RSA-OAEP --kek-file "$IN/kek3072.pem" --wrapped-file "$IN/w.oaep"
bad 5 "the wrapped key has 255 bytes, but this key wraps to 256" --alg RSA-OAEP \
	--kek-file "$IN/kek.pem" --wrapped-b64 "$(head -c 255 "$IN/w.oaep" | base64 -w0)"
pass "wrong KEK (also of another size) and tampered wrapped keys: exit 5 naming the algorithm and the key"
bad 2 "RSA-OAEP does not fit $IN/aes256, a AES-256 key" --alg RSA-OAEP --kek-file "$IN/aes256" \
	--wrapped-file "$IN/w.oaep"
bad 2 "A256KW does not fit $IN/kek.pem, a RSA-2048 key" --alg A256KW --kek-file "$IN/kek.pem" \
	--wrapped-file "$IN/w.kw256"
bad 2 "A256KW needs a 256-bit key" --alg A256KW --kek-file "$IN/aes128" --wrapped-file "$IN/w.kw256"
bad 2 "add --allow-rsa1_5" --alg RSA1_5 --kek-file "$IN/kek.pem" --wrapped-file "$IN/w.rsa15"
bad 2 "unknown key wrap algorithm" --alg RSA-OAEP-512 --kek-file "$IN/kek.pem" \
	--wrapped-file "$IN/w.oaep"
bad 2 "give exactly one of" --alg RSA-OAEP --kek-file "$IN/kek.pem"
bad 2 "give exactly one of" --alg RSA-OAEP --kek-file "$IN/kek.pem" --wrapped-file "$IN/w.oaep" \
	--wrapped-b64 AAAA
bad 2 "--kek-file or --kek-url" --alg RSA-OAEP --wrapped-file "$IN/w.oaep"
bad 2 "not both" --alg RSA-OAEP --kek-file "$IN/kek.pem" --kek-url https://v.vault.azure.net/keys/k \
	--wrapped-file "$IN/w.oaep"
bad 2 "--alg is needed" --kek-file "$IN/kek.pem" --wrapped-file "$IN/w.oaep"
bad 2 "$IN/nope: cannot open" --alg RSA-OAEP --kek-file "$IN/nope" --wrapped-file "$IN/w.oaep"
run 2 "$CVMRESTORE" unwrap --alg A256KW --kek-file "$IN/aes256" --wrapped-file "$IN/w.kw256" \
	-o "$K/kw256"
expect_stderr_has "exists: the key file must be new"
cmp -s "$K/kw256" "$IN/key32" || fail "a refused unwrap changed an existing key file"
pass "algorithm/KEK misfits, RSA1_5, unknown algorithms, missing sources, existing output: exit 2"

bad 3 "the wrapped key has 33 bytes" --alg A256KW --kek-file "$IN/aes256" \
	--wrapped-b64 "$(head -c 33 /dev/zero | base64 -w0)"
bad 3 "--wrapped-b64: base64" --alg A256KW --kek-file "$IN/aes256" --wrapped-b64 'AA*A'
bad 3 "not a PEM private key, a JWK or a raw AES key" --alg A256KW --kek-file "$IN/w.oaep" \
	--wrapped-file "$IN/w.kw256"
bad 3 "only RSA keys unwrap" --alg RSA-OAEP --kek-file "$IN/ec.pem" --wrapped-file "$IN/w.oaep"
bad 3 "no private exponent" --alg RSA-OAEP --kek-file "$IN/kek-public.jwk" --wrapped-file "$IN/w.oaep"
bad 3 "not a PEM private key" --alg RSA-OAEP --kek-file "$IN/kek.pub" --wrapped-file "$IN/w.oaep"
pass "malformed wrapped keys and KEK files: exit 3"
bad 5 "is encrypted; give its passphrase with --kek-pass-file" --alg RSA-OAEP \
	--kek-file "$IN/kek-enc.pem" --wrapped-file "$IN/w.oaep"
printf 'wrong\n' >"$IN/wrong.pass"
bad 5 "the passphrase does not decrypt the private key" --alg RSA-OAEP --kek-file "$IN/kek-enc.pem" \
	--kek-pass-file "$IN/wrong.pass" --wrapped-file "$IN/w.oaep"
pass "encrypted PEM without or with a wrong passphrase: exit 5"

note "the sample recovery point: its wrapped LUKS passphrase against a restored disk"
S=$RP_SOURCE_DIR/testdata/sample-rp
run 0 "$CVMRESTORE" unwrap --alg RSA-OAEP-256 --kek-file "$S/kek.pem" \
	--wrapped-file "$S/luks-passphrase.wrapped" -o "$K/sample.pass"
cmp -s "$K/sample.pass" "$S/passphrase.txt" || fail "the sample's wrapped passphrase unwraps to another value"
run 0 "$CVMRESTORE" restore "$S/os-disk.vhd" -o "$T/sample.vhd" -q --seal "$S/os-disk.seal.json" \
	--luks-passphrase-file "$K/sample.pass" --json
json_check "$RP_OUT" 'd["luks"]["volumes"][0]["partition"] == 2 and d["luks"]["volumes"][0]["opened_keyslot"] == 0 and d["luks"]["volumes"][0]["uuid"] == "5a3c1e0d-7b2f-4c4e-9d6a-0c5e8f1a2b3c" and d["verdict"] == "pass"' \
	"restore --luks-passphrase-file: $(cat "$RP_OUT")"
printf 'not-the-passphrase' >"$IN/wrong-luks.pass"
run 1 "$CVMRESTORE" restore "$S/os-disk.vhd" -o "$T/sample2.vhd" -q \
	--luks-passphrase-file "$IN/wrong-luks.pass" --json
expect_stderr_has "partition 2 (LUKS2 uuid 5a3c1e0d-7b2f-4c4e-9d6a-0c5e8f1a2b3c): no keyslot opens"
json_check "$RP_OUT" 'd["verdict"] == "fail" and d["luks"]["volumes"][0]["result"] == "no-key-opened"' \
	"restore with a wrong LUKS passphrase: $(cat "$RP_OUT")"
run 0 "$CVMRESTORE" verify "$T/sample.vhd" -q --seal "$S/os-disk.seal.json" \
	--luks-passphrase-file "$K/sample.pass" --json
json_check "$RP_OUT" 'd["verdict"] == "pass" and d["disks"][0]["luks"][0]["opened_keyslot"] == 0 and d["disks"][0]["luks"][0]["result"] == "opened"' \
	"verify --luks-passphrase-file: $(cat "$RP_OUT")"
run 1 "$CVMRESTORE" verify "$T/sample.vhd" -q --luks-passphrase-file "$IN/wrong-luks.pass" --json
json_check "$RP_OUT" 'd["verdict"] == "fail" and d["disks"][0]["reasons"][0]["code"] == "luks-no-key" and d["disks"][0]["luks"][0]["result"] == "no-key-opened"' \
	"verify with a wrong LUKS passphrase: $(cat "$RP_OUT")"
pass "the sample's passphrase unwraps with its KEK and opens keyslot 0 of the restored disk (restore and verify); a wrong one: exit 1"

note "no key in any output"
printf '%s' "kek-pem-passphrase" | od -An -tx1 -v | tr -d ' \n' >>"$SECRETS"
echo >>"$SECRETS"
it_scan_secrets "$LOG" "$SECRETS"
# The search must be able to fail: plant one key in a copy of the logs.
mkdir -p "$T/control"
cp "$LOG/1.err" "$T/control/x"
base64 -w0 "$IN/key32" >>"$T/control/x"
( it_scan_secrets "$T/control" "$SECRETS" ) 2>/dev/null && fail "the secret search misses a planted key"
pass "no key, KEK or passphrase in $n outputs; a planted one is found"

echo "test_unwrap: $PASSED passed, 0 failed"
