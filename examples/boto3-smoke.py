#!/usr/bin/python3
"""Drives DataDefender's AWS KMS API with boto3, exactly as against AWS KMS.
Usage: examples/boto3-smoke.py DATA_DIR   (the data dir of a running `datadefender server --dev`)"""
import json
import sys

import boto3
from botocore.exceptions import ClientError

creds = json.load(open(f"{sys.argv[1]}/dev-credentials.json"))
kms = boto3.client(
    "kms",
    endpoint_url=creds["endpoint"],
    region_name=creds["region"],
    aws_access_key_id=creds["accessKeyId"],
    aws_secret_access_key=creds["secretAccessKey"],
    verify=creds["caCertFile"],
)

key = kms.create_key(Description="boto3 smoke")["KeyMetadata"]
print("created", key["KeyId"], type(key["CreationDate"]).__name__)
blob = kms.encrypt(KeyId=key["Arn"], Plaintext=b"IBAN DE89 3704 0044 0532 0130 00", EncryptionContext={"app": "boto3"})["CiphertextBlob"]
back = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "boto3"})
print("decrypt", back["Plaintext"].decode(), back["KeyId"] == key["Arn"])
data_key = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")
print("data key bytes", len(data_key["Plaintext"]))
pages = kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 1})
print("paginated keys", sum(len(p["Keys"]) for p in pages) >= 1)
try:
    kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "other"})
except ClientError as err:
    print("error", err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"])
