#!/usr/bin/env python3
"""Bucket chores for tests/s3.rs with boto3 (installed with moto[server]).

usage: bucket.py ENDPOINT COMMAND ARGS...
  create BUCKET
  put BUCKET KEY FILE [CONTENT_TYPE CACHE_CONTROL META_KEY=META_VALUE]
  get BUCKET KEY OUT
  head BUCKET KEY            prints JSON: content_type, cache_control, metadata, etag, length
  uploads BUCKET             prints the number of multipart uploads still in progress
"""
import json
import sys

import boto3

endpoint, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
if cmd == "create":
    s3.create_bucket(Bucket=args[0])
elif cmd == "put":
    extra = {}
    if len(args) > 3:
        k, v = args[5].split("=", 1)
        extra = {"ContentType": args[3], "CacheControl": args[4], "Metadata": {k: v}}
    with open(args[2], "rb") as f:
        s3.put_object(Bucket=args[0], Key=args[1], Body=f.read(), **extra)
elif cmd == "get":
    with open(args[2], "wb") as f:
        f.write(s3.get_object(Bucket=args[0], Key=args[1])["Body"].read())
elif cmd == "head":
    h = s3.head_object(Bucket=args[0], Key=args[1])
    print(json.dumps({"content_type": h.get("ContentType"), "cache_control": h.get("CacheControl"),
                      "metadata": h.get("Metadata"), "etag": h["ETag"], "length": h["ContentLength"]}))
elif cmd == "uploads":
    print(len(s3.list_multipart_uploads(Bucket=args[0]).get("Uploads", [])))
else:
    sys.exit(f"unknown command {cmd}")
