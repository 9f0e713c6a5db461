"""Per-workspace S3 access: the key prefixes a workspace owns and the IAM-style policy that
limits its credentials to them (MinIO and AWS read the same JSON)."""
from __future__ import annotations

import json
import uuid

AREAS = ("datasets", "loras", "images", "videos", "inputs")  # inputs: files a desk sent a job


def workspace_prefixes(workspace_id: uuid.UUID | str) -> list[str]:
    """The shared key layout: ``<area>/<workspace>/…`` for each area."""
    return [f"{area}/{workspace_id}/" for area in AREAS]


def workspace_policy(bucket: str, workspace_id: uuid.UUID | str) -> dict[str, object]:
    """Objects under the workspace's prefixes only; listing only below them."""
    prefixes = workspace_prefixes(workspace_id)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                        "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
             "Resource": [f"arn:aws:s3:::{bucket}/{prefix}*" for prefix in prefixes]},
            {"Effect": "Allow",
             "Action": ["s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{bucket}"],
             "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}}},
        ],
    }


def workspace_policy_json(bucket: str, workspace_id: uuid.UUID | str) -> str:
    return json.dumps(workspace_policy(bucket, workspace_id), indent=2)
