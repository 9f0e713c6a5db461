#!/bin/sh
# Creates the studio's bucket and access policies in MinIO. POSIX sh: runs in the minio/mc image.
#
#   minio-init.sh             wait for MinIO, make the bucket, the team policy, one per workspace
#   minio-init.sh policy ID   print the policy of workspace ID (what the init step installs)
#
# A workspace policy allows objects under datasets/<id>/, loras/<id>/, images/<id>/, inputs/<id>/ and
# videos/<id>/ only, and listing only below them: the same document the studio's
# studio/engine/storage/policy.py writes.
set -eu

BUCKET="${BUCKET:-influencerai}"
AREAS="datasets loras images videos inputs"

resources() {  # $1: workspace id, $2: suffix → "arn:…:::bucket/area/id/<suffix>", … (JSON list body)
    out=""
    for area in $AREAS; do
        [ -n "$out" ] && out="$out, "
        out="$out\"$2$area/$1/*\""
    done
    printf '%s' "$out"
}

policy_json() {
    objects=$(resources "$1" "arn:aws:s3:::$BUCKET/")
    prefixes=$(resources "$1" "")
    cat <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow",
     "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
     "Resource": [$objects]},
    {"Effect": "Allow",
     "Action": ["s3:ListBucket"],
     "Resource": ["arn:aws:s3:::$BUCKET"],
     "Condition": {"StringLike": {"s3:prefix": [$prefixes]}}}
  ]
}
JSON
}

team_policy_json() {
    cat <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:*"],
     "Resource": ["arn:aws:s3:::$BUCKET", "arn:aws:s3:::$BUCKET/*"]}
  ]
}
JSON
}

check_id() {
    case "$1" in
        *[!0-9a-f-]*|"") echo "not a workspace id: '$1'" >&2; exit 2 ;;
    esac
}

if [ "${1:-}" = "policy" ]; then
    check_id "${2:-}"
    policy_json "$2"
    exit 0
fi

tries=0
until mc alias set studio "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -ge 60 ] && { echo "MinIO at $MINIO_URL did not answer" >&2; exit 1; }
    sleep 1
done

mc mb --ignore-existing "studio/$BUCKET"
tmp=$(mktemp -d)
team_policy_json > "$tmp/team.json"
mc admin policy create studio studio-team "$tmp/team.json"
for ws in ${WORKSPACES:-}; do
    check_id "$ws"
    policy_json "$ws" > "$tmp/ws.json"
    mc admin policy create studio "ws-$ws" "$tmp/ws.json"
    echo "policy ws-$ws: objects under datasets|loras|images|videos|inputs/$ws/ only"
done
rm -rf "$tmp"
echo "bucket $BUCKET ready"
