#!/usr/bin/env bash
# Drives DataDefender's AWS KMS API with the AWS CLI, exactly as a team would against AWS KMS.
# Usage: examples/aws-cli-smoke.sh DATA_DIR   (the data dir of a running `datadefender server --dev`)
# Needs: aws (Debian's awscli 2.x), jq-free (uses --query), base64.
set -euo pipefail
CREDS="$1/dev-credentials.json"
field() { node -e "process.stdout.write(String(require(process.argv[1])[process.argv[2]]))" "$CREDS" "$1"; }
AWS_BIN="${AWS_BIN:-aws}"
export AWS_ACCESS_KEY_ID="$(field accessKeyId)" AWS_SECRET_ACCESS_KEY="$(field secretAccessKey)"
export AWS_DEFAULT_REGION="$(field region)" AWS_CA_BUNDLE="$(field caCertFile)"
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
kms() { "$AWS_BIN" kms --endpoint-url "$(field endpoint)" --output text "$@"; }
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT

KEY_ID="$(kms create-key --description 'aws cli smoke' --query KeyMetadata.KeyId)"
echo "created $KEY_ID"
kms create-alias --alias-name alias/cli-smoke --target-key-id "$KEY_ID"
printf 'card 4111111111111111' > "$WORK/plain.txt"
kms encrypt --key-id alias/cli-smoke --plaintext "fileb://$WORK/plain.txt" --encryption-context app=cli \
  --query CiphertextBlob | base64 -d > "$WORK/cipher.bin"
kms decrypt --ciphertext-blob "fileb://$WORK/cipher.bin" --encryption-context app=cli --query Plaintext | base64 -d > "$WORK/back.txt"
cmp "$WORK/plain.txt" "$WORK/back.txt" && echo "decrypt ok"
DATA_KEY_LEN="$(kms generate-data-key --key-id "$KEY_ID" --key-spec AES_256 --query Plaintext | base64 -d | wc -c)"
echo "data key bytes $DATA_KEY_LEN"
kms list-aliases --key-id "$KEY_ID" --query 'Aliases[].AliasName'
kms schedule-key-deletion --key-id "$KEY_ID" --pending-window-in-days 7 --query KeyState
if kms encrypt --key-id "$KEY_ID" --plaintext "fileb://$WORK/plain.txt" 2>"$WORK/err.txt"; then exit 1; fi
grep -o KMSInvalidStateException "$WORK/err.txt"
