"""boto3's STS assume_role against a running Shale server (run by tests/e2e_iam_sts_test.ts).

Environment: as boto3_suite.py (SHALE_ENDPOINT, SHALE_REGION, SHALE_BUCKET, ...), plus the IAM
user that assumes the role (SHALE_STS_ACCESS_KEY, SHALE_STS_SECRET_KEY) and an object of
SHALE_BUCKET the user may read (SHALE_STS_KEY, with the body SHALE_STS_BODY). Prints one JSON
object on the last line of stdout (see _checks.py) and exits 0 only when every check passed.
"""

import os

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from _checks import check, expect, report

ENDPOINT = os.environ["SHALE_ENDPOINT"]
REGION = os.environ["SHALE_REGION"]
BUCKET = os.environ["SHALE_BUCKET"]
KEY = os.environ["SHALE_STS_KEY"]
# No retries: a refusal must be seen as it is, not retried away.
CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "path"},
                retries={"max_attempts": 1})

session = {}


def s3_client(**credentials):
    return boto3.client("s3", endpoint_url=ENDPOINT, region_name=REGION, config=CONFIG,
                        **credentials)


@check("an IAM user's assume_role (signed for sts) returns temporary credentials")
def assume_role():
    sts = boto3.client("sts", endpoint_url=ENDPOINT, region_name=REGION, config=CONFIG,
                       aws_access_key_id=os.environ["SHALE_STS_ACCESS_KEY"],
                       aws_secret_access_key=os.environ["SHALE_STS_SECRET_KEY"])
    out = sts.assume_role(RoleArn="arn:minio:iam:::role/any", RoleSessionName="boto3",
                          DurationSeconds=900)
    c = out["Credentials"]
    expect(len(c["AccessKeyId"]) == 20, f"access key {c['AccessKeyId']!r}")
    expect(c["AccessKeyId"] != os.environ["SHALE_STS_ACCESS_KEY"], "a new access key")
    expect(c["SessionToken"].count(".") == 2, "the session token is a JWT")
    session.update(c)


@check("the session credentials GET an object")
def get_with_session():
    s3 = s3_client(aws_access_key_id=session["AccessKeyId"],
                   aws_secret_access_key=session["SecretAccessKey"],
                   aws_session_token=session["SessionToken"])
    body = s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read().decode()
    expect(body == os.environ["SHALE_STS_BODY"], f"body {body!r}")


@check("the same keys without the session token are refused (InvalidTokenId)")
def get_without_token():
    s3 = s3_client(aws_access_key_id=session["AccessKeyId"],
                   aws_secret_access_key=session["SecretAccessKey"])
    try:
        s3.get_object(Bucket=BUCKET, Key=KEY)
    except ClientError as e:
        code = e.response["Error"]["Code"]
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        expect((code, status) == ("InvalidTokenId", 403), f"refused with {code} {status}")
        return
    raise AssertionError("a GET without the session token succeeded")


for step in [assume_role, get_with_session, get_without_token]:
    step()
report()
