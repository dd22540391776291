"""A real S3 HTTP endpoint on loopback for tests: moto's server mode.

The code under test is plain boto3 against an endpoint URL; nothing in it
knows this is moto. Buckets get the CORS rule browsers need for direct
uploads (the same rule docs/deploy.md tells operators to set).
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import boto3

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "studio-test",
    "AWS_SECRET_ACCESS_KEY": "studio-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# What a browser needs: PUT parts and read their ETag; GET (with Range) for playback.
CORS_RULES = {
    "CORSRules": [
        {
            "AllowedOrigins": ["*"],
            "AllowedMethods": ["GET", "HEAD", "PUT"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag", "Content-Length", "Content-Range", "Accept-Ranges"],
            "MaxAgeSeconds": 3600,
        }
    ]
}


def use_test_credentials() -> None:
    """The standard AWS variables, as an operator would set them."""
    for name, value in CREDENTIALS.items():
        os.environ[name] = value


def client(endpoint: str) -> Any:
    use_test_credentials()
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def make_bucket(endpoint: str, name: str | None = None) -> str:
    """A fresh bucket with the browsers' CORS rule; its name."""
    name = name or f"studio-test-{secrets.token_hex(4)}"
    s3 = client(endpoint)
    s3.create_bucket(Bucket=name)
    s3.put_bucket_cors(Bucket=name, CORSConfiguration=CORS_RULES)
    return name
