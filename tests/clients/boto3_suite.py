"""boto3 against a running Shale server (run by tests/e2e_clients_boto3_test.ts).

Environment: SHALE_ENDPOINT, SHALE_ACCESS_KEY, SHALE_SECRET_KEY, SHALE_REGION, SHALE_WORKDIR (an
empty temp folder this script may fill), SHALE_BUCKET. Prints one JSON object on the last line of
stdout: {"ok": true, "checks": [...]} or {"ok": false, "failed": "<check>", "error": "..."} and
exits 0 only when every check passed.
"""

import concurrent.futures
import base64
import hashlib
import io
import os
import random
import urllib.request
import zlib

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from _checks import check, expect, report

KIB = 1024
MIB = 1024 * KIB
SIZES = [0, 1, 128 * KIB - 1, 128 * KIB, MIB + 1, 5 * MIB]
LISTED_KEY_COUNT = 2500
PART_SIZE = 5 * MIB  # S3's minimum part size, so small files really are multipart

ENDPOINT = os.environ["SHALE_ENDPOINT"]
WORKDIR = os.environ["SHALE_WORKDIR"]
BUCKET = os.environ["SHALE_BUCKET"]


def data_of(size, seed):
    return random.Random(seed).randbytes(size)


# No retries: a server error must fail the check, not be papered over.
s3 = boto3.client(
    "s3",
    endpoint_url=ENDPOINT,
    region_name=os.environ["SHALE_REGION"],
    aws_access_key_id=os.environ["SHALE_ACCESS_KEY"],
    aws_secret_access_key=os.environ["SHALE_SECRET_KEY"],
    config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                  max_pool_connections=24, retries={"max_attempts": 1}),
)


@check("creates the bucket")
def create_bucket():
    s3.create_bucket(Bucket=BUCKET)
    s3.head_bucket(Bucket=BUCKET)


@check("upload_file and download_file round-trip every size byte-exact")
def sizes_round_trip():
    config = TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE)
    for size in SIZES:
        data = data_of(size, size + 11)
        src = os.path.join(WORKDIR, f"up-{size}")
        dst = os.path.join(WORKDIR, f"down-{size}")
        with open(src, "wb") as f:
            f.write(data)
        key = f"sizes/{size}"
        s3.upload_file(src, BUCKET, key, Config=config)
        s3.download_file(BUCKET, key, dst, Config=config)
        with open(dst, "rb") as f:
            got = f.read()
        expect(got == data, f"download of {size} bytes differs (got {len(got)} bytes)")
        head = s3.head_object(Bucket=BUCKET, Key=key)
        expect(head["ContentLength"] == size, f"head of {size}: {head['ContentLength']}")
        if size >= PART_SIZE:
            expect(head["ETag"].endswith('-1"'), f"{size} bytes not multipart: {head['ETag']}")
        else:
            expect(head["ETag"] == f'"{hashlib.md5(data).hexdigest()}"',
                   f"ETag of {size} bytes: {head['ETag']}")


@check("upload_file sends a 3-part multipart upload with the multipart ETag")
def multipart_upload():
    size = 2 * PART_SIZE + 12345
    data = data_of(size, 3)
    src = os.path.join(WORKDIR, "multi")
    dst = os.path.join(WORKDIR, "multi-down")
    with open(src, "wb") as f:
        f.write(data)
    config = TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE,
                            max_concurrency=3)
    s3.upload_file(src, BUCKET, "multi/object", Config=config,
                   ExtraArgs={"Metadata": {"origin": "boto3"}, "ContentType": "application/x-test"})
    parts = [data[i:i + PART_SIZE] for i in range(0, size, PART_SIZE)]
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    head = s3.head_object(Bucket=BUCKET, Key="multi/object")
    expect(head["ETag"] == f'"{digest}-3"', f"multipart ETag {head['ETag']} != {digest}-3")
    expect(head["ContentLength"] == size, f"ContentLength {head['ContentLength']}")
    expect(head["Metadata"] == {"origin": "boto3"}, f"Metadata {head['Metadata']}")
    expect(head["ContentType"] == "application/x-test", f"ContentType {head['ContentType']}")
    # A ranged, multi-threaded download across part boundaries.
    s3.download_file(BUCKET, "multi/object", dst,
                     Config=TransferConfig(multipart_threshold=MIB, multipart_chunksize=MIB,
                                           max_concurrency=4))
    with open(dst, "rb") as f:
        expect(f.read() == data, "multipart download differs")


@check("a managed copy of a multipart object uses UploadPartCopy and keeps the bytes")
def managed_copy():
    size = 2 * PART_SIZE + 12345
    data = data_of(size, 3)  # the bytes of multi/object
    config = TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE)
    s3.copy({"Bucket": BUCKET, "Key": "multi/object"}, BUCKET, "multi/copy", Config=config)
    head = s3.head_object(Bucket=BUCKET, Key="multi/copy")
    expect(head["ETag"].endswith('-3"'), f"managed copy was not multipart: {head['ETag']}")
    expect(head["ContentLength"] == size, f"copy ContentLength {head['ContentLength']}")
    got = s3.get_object(Bucket=BUCKET, Key="multi/copy")["Body"].read()
    expect(got == data, "managed copy bytes differ")


@check("flexible checksums are validated, stored and returned, whole and per part")
def checksums():
    body = b"hello checksum"
    want = {
        "CRC32": base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode(),
        "SHA1": base64.b64encode(hashlib.sha1(body).digest()).decode(),
        "SHA256": base64.b64encode(hashlib.sha256(body).digest()).decode(),
    }
    for alg in ["CRC32", "CRC32C", "SHA1", "SHA256"]:
        put = s3.put_object(Bucket=BUCKET, Key=f"checksum/{alg}", Body=body,
                            ChecksumAlgorithm=alg)
        head = s3.head_object(Bucket=BUCKET, Key=f"checksum/{alg}", ChecksumMode="ENABLED")
        expect(head.get(f"Checksum{alg}") == put.get(f"Checksum{alg}"),
               f"{alg}: put {put.get(f'Checksum{alg}')} head {head.get(f'Checksum{alg}')}")
        if alg in want:
            expect(head.get(f"Checksum{alg}") == want[alg], f"{alg}: {head.get(f'Checksum{alg}')}")
    # A multipart upload's checksum is the checksum of the part checksums, suffixed "-N".
    size = 2 * PART_SIZE + 1
    data = data_of(size, 9)
    config = TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE)
    s3.upload_fileobj(io.BytesIO(data), BUCKET, "checksum/multipart", Config=config,
                      ExtraArgs={"ChecksumAlgorithm": "SHA256"})
    parts = [data[i:i + PART_SIZE] for i in range(0, size, PART_SIZE)]
    composite = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()
    head = s3.head_object(Bucket=BUCKET, Key="checksum/multipart", ChecksumMode="ENABLED")
    expect(head.get("ChecksumSHA256") == f"{base64.b64encode(composite).decode()}-3",
           f"multipart SHA256 {head.get('ChecksumSHA256')}")
    got = s3.get_object(Bucket=BUCKET, Key="checksum/multipart")["Body"].read()
    expect(got == data, "multipart checksum object bytes differ")


@check("paginators page ListParts and ListMultipartUploads, each item once")
def multipart_listings():
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="pending/parts")["UploadId"]
    for n in range(1, 6):
        s3.upload_part(Bucket=BUCKET, Key="pending/parts", UploadId=upload, PartNumber=n,
                       Body=bytes([n]) * (n * 10))
    parts = [(p["PartNumber"], p["Size"]) for page in s3.get_paginator("list_parts").paginate(
        Bucket=BUCKET, Key="pending/parts", UploadId=upload, PaginationConfig={"PageSize": 2}
    ) for p in page.get("Parts", [])]
    expect(parts == [(n, n * 10) for n in range(1, 6)], f"parts {parts}")
    # Several uploads of one key page by (key, upload id) markers.
    started = [("pending/parts", upload)]
    for key in ["pending/a", "pending/b", "pending/b", "pending/c", "pending/c", "pending/c"]:
        started.append((key, s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]))
    listed = [(u["Key"], u["UploadId"]) for page in s3.get_paginator(
        "list_multipart_uploads").paginate(
        Bucket=BUCKET, Prefix="pending/", PaginationConfig={"PageSize": 2}
    ) for u in page.get("Uploads", [])]
    expect(len(listed) == len(set(listed)), f"an upload came back twice: {listed}")
    expect(sorted(listed) == sorted(started), f"uploads {listed}")
    expect([k for k, _ in listed] == sorted(k for k, _ in started), f"key order {listed}")
    for key, upload_id in started:
        s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)
    left = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="pending/").get("Uploads", [])
    expect(left == [], f"uploads left after abort: {left}")


def many_keys():
    """2,500 keys: 2,000 in 20 folders of 100, and for every 20th of those five siblings whose
    suffixes ("-", "/", "~", U+FF5E, U+1F600) sort differently as UTF-8 bytes than as UTF-16."""
    base = [f"many/{i // 100:02d}/key-{i:05d}" for i in range(2000)]
    variants = [f"{k}{s}" for k in base[::20] for s in ["-x", "/z", "~", "\uff5e", "\U0001f600"]]
    keys = base + variants
    assert len(keys) == LISTED_KEY_COUNT
    return keys


@check("a paginator lists 2,500 keys, each once and in order")
def paginate():
    keys = many_keys()
    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=BUCKET, Key=k, Body=k.encode()), keys))
    seen = []
    pages = 0
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix="many/", PaginationConfig={"PageSize": 700}
    ):
        pages += 1
        seen.extend(obj["Key"] for obj in page.get("Contents", []))
    expect(pages == 4, f"expected 4 pages of at most 700, got {pages}")
    expect(len(seen) == len(set(seen)), "a key came back twice")
    expect(seen == sorted(keys, key=lambda k: k.encode()), f"listed {len(seen)} keys, not the {len(keys)} in order")
    # Delimiter listing pages through the common prefixes too.
    prefixes = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix="many/", Delimiter="/", PaginationConfig={"PageSize": 10}
    ):
        prefixes.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
    expect(prefixes == [f"many/{i:02d}/" for i in range(20)], f"prefixes {prefixes}")
    # ListObjects (v1) pages with markers.
    v1 = []
    for page in s3.get_paginator("list_objects").paginate(
        Bucket=BUCKET, Prefix="many/", PaginationConfig={"PageSize": 900}
    ):
        v1.extend(obj["Key"] for obj in page.get("Contents", []))
    expect(v1 == seen, f"ListObjects v1 listed {len(v1)} keys, not the same {len(seen)}")


@check("presigned GET and PUT URLs work with plain urllib")
def presigned():
    body = data_of(MIB + 1, 5)
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": BUCKET, "Key": "presigned/obj ü+=.bin"}, ExpiresIn=600)
    req = urllib.request.Request(put_url, data=body, method="PUT")
    with urllib.request.urlopen(req) as res:
        expect(res.status == 200, f"presigned PUT status {res.status}")
        expect(res.headers["ETag"] == f'"{hashlib.md5(body).hexdigest()}"',
               f"presigned PUT ETag {res.headers['ETag']}")
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "presigned/obj ü+=.bin"}, ExpiresIn=600)
    with urllib.request.urlopen(get_url) as res:
        expect(res.status == 200, f"presigned GET status {res.status}")
        expect(res.read() == body, "presigned GET body differs")
    # A URL signed for another key must not read this one.
    bad = get_url.replace("obj%20%C3%BC", "obj%20%C3%BD")
    try:
        urllib.request.urlopen(bad)
        raise AssertionError("a tampered presigned URL was accepted")
    except urllib.error.HTTPError as e:
        expect(e.code == 403, f"tampered presigned URL answered {e.code}")


@check("head_object returns size, ETag, type and metadata")
def head():
    s3.put_object(Bucket=BUCKET, Key="head/obj", Body=b"hello boto3", ContentType="text/plain",
                  Metadata={"color": "blue"})
    h = s3.head_object(Bucket=BUCKET, Key="head/obj")
    expect(h["ContentLength"] == 11, f"ContentLength {h['ContentLength']}")
    expect(h["ETag"] == f'"{hashlib.md5(b"hello boto3").hexdigest()}"', f"ETag {h['ETag']}")
    expect(h["ContentType"] == "text/plain", f"ContentType {h['ContentType']}")
    expect(h["Metadata"] == {"color": "blue"}, f"Metadata {h['Metadata']}")
    try:
        s3.head_object(Bucket=BUCKET, Key="head/missing")
        raise AssertionError("head of a missing key succeeded")
    except s3.exceptions.ClientError as e:
        expect(e.response["Error"]["Code"] == "404", f"missing key: {e.response['Error']}")


@check("delete_objects removes 2,500 keys in batches and reports each")
def delete_many():
    keys = many_keys()
    deleted = []
    for i in range(0, len(keys), 1000):
        batch = keys[i:i + 1000]
        res = s3.delete_objects(Bucket=BUCKET,
                                Delete={"Objects": [{"Key": k} for k in batch]})
        expect(not res.get("Errors"), f"delete errors {res.get('Errors')}")
        deleted.extend(d["Key"] for d in res.get("Deleted", []))
    expect(sorted(deleted) == sorted(keys), f"{len(deleted)} deleted, expected {len(keys)}")
    # Quiet mode answers nothing for successes.
    res = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "head/obj"}], "Quiet": True})
    expect(not res.get("Deleted") and not res.get("Errors"), f"quiet answer {res}")
    left = s3.list_objects_v2(Bucket=BUCKET, Prefix="many/")
    expect(left["KeyCount"] == 0, f"{left['KeyCount']} keys left after delete_objects")


@check("empties and deletes the bucket")
def cleanup():
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        objs = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if objs:
            s3.delete_objects(Bucket=BUCKET, Delete={"Objects": objs, "Quiet": True})
    s3.delete_bucket(Bucket=BUCKET)


for step in [create_bucket, sizes_round_trip, multipart_upload, managed_copy, checksums,
             multipart_listings, paginate, presigned, head, delete_many, cleanup]:
    step()
report()
