#!/usr/bin/env bash
# The seed blog post's AWS CLI walkthrough ("Combining encryption and signing with AWS KMS
# asymmetric keys"), with the post's mistakes corrected, run against whatever AWS_ENDPOINT_URL
# points at (the local endpoint) or against AWS itself when it is unset.
#
# Corrections (shared/notes/kms-facts.md, "The seed, run as written"):
#   - message.json is written with a quoted heredoc, so it is valid JSON;
#   - role ARNs have one colon before "role/" (arn:aws:iam::ACCOUNT:role/SenderRole);
#   - the receiver decrypts message.enc (the post says fileb://EncryptedMessage);
#   - the archive is unpacked with `tar -xzvf` (the post's `tar -xvfz` takes z as the name).
#
# Interface (environment variables; all optional):
#   SEED_STEP               all (default) | send | receive
#                           send: as SenderRole, write message.json, message.sig,
#                                 message.tar.gz and message.enc in SEED_WORK_DIR;
#                           receive: as ReceiverRole, decrypt SEED_WORK_DIR/message.enc in
#                                 SEED_WORK_DIR/receiver/, unpack, verify with KMS Verify.
#   SEED_WORK_DIR           working directory, kept afterwards (default: a new temporary
#                           directory, removed on exit after SEED_STEP=all, kept after
#                           send; receive requires SEED_WORK_DIR)
#   SEED_ACCOUNT_ID         account of the roles (default 123456789012)
#   SEED_SENDER_ROLE_ARN    default arn:aws:iam::$SEED_ACCOUNT_ID:role/SenderRole
#   SEED_RECEIVER_ROLE_ARN  default arn:aws:iam::$SEED_ACCOUNT_ID:role/ReceiverRole
#   SEED_ENCRYPTION_KEY     default alias/sample-encrypt-decrypt-key
#   SEED_SIGNING_KEY        default alias/sample-sign-verify-key
#   SEED_EXTERNAL_ID        passed to assume-role as --external-id when set
#   SEED_SENDER_PROFILE     AWS profile of the sender workload, which assumes SenderRole
#   SEED_RECEIVER_PROFILE   AWS profile of the receiver workload, which assumes ReceiverRole
#                           (default: the calling credentials; the stack's default trust lets
#                           only each party's own workload assume its role)
#   SEED_SESSION_NAME       role session name (default AWSCLI-Session, as in the post)
#   AWS_CLI                 the AWS CLI to run (default: the project's .venv/bin/aws, else aws)
#   AWS_ENDPOINT_URL        also passed as --endpoint-url, which every AWS CLI version honours
# The calling credentials (AWS_ACCESS_KEY_ID, ...) must be allowed to assume both roles.
#
# Output: each step is announced on stderr ("seed: ..."); the AWS CLI's own output goes to
# stdout, as in the post: get-caller-identity's JSON (assumed-role/SenderRole, then
# assumed-role/ReceiverRole), the verify response ("SignatureValid": true) and message.json.
# Exit status: 0 when every command succeeds; otherwise the failing command's status (the
# AWS CLI exits 255 (v1) or 254 (v2) for a service error such as AccessDeniedException).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
step="${SEED_STEP:-all}"
account="${SEED_ACCOUNT_ID:-123456789012}"
sender_role="${SEED_SENDER_ROLE_ARN:-arn:aws:iam::${account}:role/SenderRole}"
receiver_role="${SEED_RECEIVER_ROLE_ARN:-arn:aws:iam::${account}:role/ReceiverRole}"
encryption_key="${SEED_ENCRYPTION_KEY:-alias/sample-encrypt-decrypt-key}"
signing_key="${SEED_SIGNING_KEY:-alias/sample-sign-verify-key}"
session_name="${SEED_SESSION_NAME:-AWSCLI-Session}"
if [[ -z "${AWS_CLI:-}" ]]; then
  if [[ -x "$here/.venv/bin/aws" ]]; then AWS_CLI="$here/.venv/bin/aws"; else AWS_CLI=aws; fi
fi

case "$step" in
  all | send | receive) ;;
  *) echo "seed: SEED_STEP must be all, send or receive, not '$step'" >&2; exit 2 ;;
esac

if [[ -n "${SEED_WORK_DIR:-}" ]]; then
  work="$SEED_WORK_DIR"
elif [[ "$step" == receive ]]; then
  echo "seed: SEED_STEP=receive needs SEED_WORK_DIR (where send wrote message.enc)" >&2
  exit 2
else
  work="$(mktemp -d -t seed-walkthrough.XXXXXX)"
  # A directory we made for a whole run is ours to remove, whatever happens; after
  # SEED_STEP=send it holds message.enc for the receive step, so it stays.
  if [[ "$step" == all ]]; then trap 'rm -rf -- "$work"' EXIT; fi
fi

say() { echo "seed: $*" >&2; }
# Print the exact command line, then run it: what is shown is what runs (copy-paste safe).
say_run() {
  local shown
  printf -v shown '%q ' "$@"
  say "${shown% }"
  "$@"
}

aws() {
  if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
    "$AWS_CLI" --endpoint-url "$AWS_ENDPOINT_URL" "$@"
  else
    "$AWS_CLI" "$@"
  fi
}

# Assume a role and export its session credentials, as the post does by hand.
assume() {
  local role_arn="$1" profile="${2:-}" credentials
  local extra=()
  if [[ -n "${SEED_EXTERNAL_ID:-}" ]]; then extra=(--external-id "$SEED_EXTERNAL_ID"); fi
  if [[ -n "$profile" ]]; then extra+=(--profile "$profile"); fi
  say "aws sts assume-role --role-arn $role_arn --role-session-name $session_name${profile:+ --profile $profile}"
  credentials="$(aws sts assume-role --role-arn "$role_arn" --role-session-name "$session_name" \
    "${extra[@]}" --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)"
  read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<<"$credentials"
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
  say "aws sts get-caller-identity"
  aws sts get-caller-identity
}

send() (
  cd "$work"
  assume "$sender_role" "${SEED_SENDER_PROFILE:-}"

  say "create message.json (valid JSON)"
  cat >message.json <<'JSON'
{
    "message": "The Magic Words are Squeamish Ossifrage",
    "sender": "Sender Principal"
}
JSON

  say_run aws kms sign \
    --key-id "$signing_key" \
    --message-type RAW \
    --signing-algorithm ECDSA_SHA_512 \
    --message fileb://message.json \
    --output text \
    --query Signature | base64 --decode >message.sig

  say "tar -czvf message.tar.gz message.sig message.json"
  tar -czvf message.tar.gz message.sig message.json >&2

  say_run aws kms encrypt \
    --key-id "$encryption_key" \
    --encryption-algorithm RSAES_OAEP_SHA_256 \
    --plaintext fileb://message.tar.gz \
    --output text \
    --query CiphertextBlob | base64 --decode >message.enc
  say "wrote $work/message.enc ($(wc -c <message.enc) bytes)"
)

receive() (
  mkdir -p "$work/receiver"
  cp "$work/message.enc" "$work/receiver/"
  cd "$work/receiver"
  assume "$receiver_role" "${SEED_RECEIVER_PROFILE:-}"

  say_run aws kms decrypt \
    --key-id "$encryption_key" \
    --ciphertext-blob fileb://message.enc \
    --encryption-algorithm RSAES_OAEP_SHA_256 \
    --output text \
    --query Plaintext | base64 --decode >message.tar.gz

  say "tar -xzvf message.tar.gz"
  tar -xzvf message.tar.gz >&2

  say_run aws kms verify \
    --key-id "$signing_key" \
    --message-type RAW \
    --message fileb://message.json \
    --signing-algorithm ECDSA_SHA_512 \
    --signature fileb://message.sig

  say "cat message.json"
  cat message.json
)

say "working in $work"
if [[ "$step" == all || "$step" == send ]]; then send; fi
if [[ "$step" == all || "$step" == receive ]]; then receive; fi
