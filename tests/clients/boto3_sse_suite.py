"""boto3 and server-side encryption against a running Shale server with a KMS key (run by
tests/e2e_sse_test.ts). Same environment and JSON report as boto3_suite.py, plus SHALE_KMS_KEY_ID.
"""

import hashlib
import os

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from _checks import check, expect, report

MIB = 1024 * 1024
PACKAGE = 64 * 1024
BUCKET = os.environ["SHALE_BUCKET"]
KMS_KEY = os.environ["SHALE_KMS_KEY_ID"]


def error_code(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"]
    raise AssertionError("expected the call to fail")


s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["SHALE_ENDPOINT"],
    aws_access_key_id=os.environ["SHALE_ACCESS_KEY"],
    aws_secret_access_key=os.environ["SHALE_SECRET_KEY"],
    region_name=os.environ["SHALE_REGION"],
    config=Config(s3={"addressing_style": "path"}),
)
BODY = os.urandom(3 * PACKAGE + 1234)
BIG = os.urandom(12 * MIB + 3)
KEY1 = os.urandom(32)
KEY2 = os.urandom(32)
SSEC1 = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY1}
SSEC2 = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY2}


@check("creates the bucket")
def check_1():
    s3.create_bucket(Bucket=BUCKET)


@check("SSE-S3 put, head and ranged get")
def check_2():
    r = s3.put_object(Bucket=BUCKET, Key="s3", Body=BODY, ServerSideEncryption="AES256")
    expect(r["ServerSideEncryption"] == "AES256", r)
    expect(r["ETag"] == '"%s"' % hashlib.md5(BODY).hexdigest(), r["ETag"])
    h = s3.head_object(Bucket=BUCKET, Key="s3")
    expect(h["ContentLength"] == len(BODY) and h["ServerSideEncryption"] == "AES256", h)
    got = s3.get_object(Bucket=BUCKET, Key="s3", Range=f"bytes={PACKAGE - 3}-{2 * PACKAGE + 3}")
    expect(got["Body"].read() == BODY[PACKAGE - 3:2 * PACKAGE + 4], "range differs")


@check("SSE-KMS put with a key id and get")
def check_3():
    r = s3.put_object(Bucket=BUCKET, Key="kms", Body=BODY, ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=KMS_KEY)
    expect(r["SSEKMSKeyId"] == f"arn:aws:kms:{KMS_KEY}", r)
    expect(s3.get_object(Bucket=BUCKET, Key="kms")["Body"].read() == BODY, "body differs")


@check("SSE-C put and get; head without the key is 400, with another key 403")
def check_4():
    r = s3.put_object(Bucket=BUCKET, Key="c", Body=BODY, **SSEC1)
    expect(r["SSECustomerAlgorithm"] == "AES256", r)
    expect(s3.get_object(Bucket=BUCKET, Key="c", **SSEC1)["Body"].read() == BODY, "body differs")
    expect(error_code(lambda: s3.head_object(Bucket=BUCKET, Key="c")) == "400", "no key")
    expect(error_code(lambda: s3.get_object(Bucket=BUCKET, Key="c")) == "InvalidRequest", "no key")
    expect(error_code(lambda: s3.head_object(Bucket=BUCKET, Key="c", **SSEC2)) == "403", "key 2")
    expect(error_code(lambda: s3.get_object(Bucket=BUCKET, Key="c", **SSEC2)) == "AccessDenied",
           "key 2")


@check("upload_file and download_file multipart with SSE-C, SSE-S3 and SSE-KMS")
def check_5():
    path = os.path.join(os.environ["SHALE_WORKDIR"], "big")
    with open(path, "wb") as f:
        f.write(BIG)
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    for key, extra in [("mp-c", SSEC1), ("mp-s3", {"ServerSideEncryption": "AES256"}),
                       ("mp-kms", {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_KEY})]:
        s3.upload_file(path, BUCKET, key, ExtraArgs=extra, Config=config)
        get_extra = SSEC1 if key == "mp-c" else {}
        out = path + "." + key
        s3.download_file(BUCKET, key, out, ExtraArgs=get_extra, Config=config)
        with open(out, "rb") as f:
            expect(f.read() == BIG, f"{key} differs")
        h = s3.head_object(Bucket=BUCKET, Key=key, **get_extra)
        expect(h["ContentLength"] == len(BIG) and h["ETag"].endswith('-3"'), h)


@check("copy_object from SSE-C to SSE-C with a new key and to SSE-KMS")
def check_6():
    src = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": KEY1}
    s3.copy_object(Bucket=BUCKET, Key="c2", CopySource={"Bucket": BUCKET, "Key": "c"}, **src,
                   **SSEC2)
    expect(s3.get_object(Bucket=BUCKET, Key="c2", **SSEC2)["Body"].read() == BODY, "c2 differs")
    s3.copy_object(Bucket=BUCKET, Key="k2", CopySource={"Bucket": BUCKET, "Key": "c"}, **src,
                   ServerSideEncryption="aws:kms")
    expect(s3.get_object(Bucket=BUCKET, Key="k2")["Body"].read() == BODY, "k2 differs")


@check("bucket default encryption applies to a plain put")
def check_7():
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    expect(rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", rule)
    s3.put_object(Bucket=BUCKET, Key="default", Body=b"plain put")
    expect(s3.head_object(Bucket=BUCKET, Key="default")["ServerSideEncryption"] == "AES256", "")
    s3.delete_bucket_encryption(Bucket=BUCKET)
    code = error_code(lambda: s3.get_bucket_encryption(Bucket=BUCKET))
    expect(code == "ServerSideEncryptionConfigurationNotFoundError", code)


check_1()
check_2()
check_3()
check_4()
check_5()
check_6()
check_7()
report()
