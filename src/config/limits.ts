/**
 * Every limit Shale enforces, in one place. Units last; the AWS (or MinIO) limit each mirrors is
 * cited. Anything that bounds a loop, a queue, a buffer or a listing comes from here.
 */

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** AWS: object keys are at most 1,024 bytes of UTF-8. */
export const KEY_LENGTH_BYTES_MAX = 1024;
/** AWS: bucket names are 3 to 63 characters. */
export const BUCKET_NAME_LENGTH_MIN = 3;
export const BUCKET_NAME_LENGTH_MAX = 63;
/** AWS: a single PUT is at most 5 GiB. */
export const PUT_OBJECT_SIZE_BYTES_MAX = 5 * GiB;
/** AWS: an object is at most 5 TiB (multipart). */
export const OBJECT_SIZE_BYTES_MAX = 5 * 1024 * GiB;
/** AWS: every part but the last is at least 5 MiB. */
export const PART_SIZE_BYTES_MIN = 5 * MiB;
/** AWS: a part is at most 5 GiB. */
export const PART_SIZE_BYTES_MAX = 5 * GiB;
/** AWS: part numbers are 1 to 10,000. */
export const PART_NUMBER_MAX = 10_000;
/** AWS: DeleteObjects takes at most 1,000 keys. */
export const DELETE_OBJECTS_KEYS_MAX = 1000;
/** AWS: list operations return at most 1,000 entries a page. */
export const LIST_PAGE_ENTRIES_MAX = 1000;
/** AWS: at most 10 tags an object and 50 a bucket; key 128 and value 256 Unicode characters. */
export const OBJECT_TAGS_MAX = 10;
export const BUCKET_TAGS_MAX = 50;
export const TAG_KEY_LENGTH_MAX = 128;
export const TAG_VALUE_LENGTH_MAX = 256;
/** AWS: user-defined metadata is at most 2 KiB (names and values, UTF-8). */
export const USER_METADATA_BYTES_MAX = 2 * KiB;
/** AWS: the request header block of a PUT is at most 8 KiB; we allow 16 KiB of headers in all. */
export const REQUEST_HEADER_BYTES_MAX = 16 * KiB;
/** XML request bodies are capped before parsing (MinIO: 2 MiB for CompleteMultipartUpload). */
export const XML_BODY_BYTES_MAX = 2 * MiB;
/** AWS: CORS configuration has at most 100 rules. */
export const CORS_RULES_MAX = 100;
/** AWS: bucket policies are at most 20 KiB. */
export const BUCKET_POLICY_BYTES_MAX = 20 * KiB;
/** AWS SigV4: requests more than 15 minutes from server time get RequestTimeTooSkewed. */
export const CLOCK_SKEW_MS_MAX = 15 * 60 * 1000;
/** AWS SigV4: presigned URLs expire in at most 7 days. */
export const PRESIGN_EXPIRY_SECONDS_MAX = 7 * 24 * 3600;
/** aws-chunked: one chunk header line (size;chunk-signature=...) is at most this long. */
export const CHUNK_HEADER_BYTES_MAX = 4 * KiB;
/** aws-chunked: the trailer section is at most this long. */
export const CHUNK_TRAILER_BYTES_MAX = 16 * KiB;
/**
 * aws-chunked: one chunk's data is at most this long (MinIO: maxChunkSize 16 MiB). A signed chunk is
 * held until its signature verifies, so this bounds the decoder's memory; clients send 64 KiB.
 */
export const CHUNK_SIZE_BYTES_MAX = 16 * MiB;
/** aws-chunked: the trailer section holds at most this many header lines (AWS sends one checksum). */
export const CHUNK_TRAILER_LINES_MAX = 16;
/**
 * aws-chunked: a signed chunk that arrives in more network reads than this is copied into one
 * buffer of its size instead of being held as views of the reads (so memory stays ~one chunk even
 * when a client trickles bytes). No AWS equivalent.
 */
export const CHUNK_HELD_VIEWS_MAX = 16;
/**
 * SigV4 signing keys kept (one per secret, day and region; four HMACs saved per request). AWS and
 * MinIO have no such limit; this bounds our cache.
 */
export const SIGNING_KEY_CACHE_ENTRIES_MAX = 1024;
/** POST policy form uploads: the non-file fields together are at most this long. */
export const POST_FORM_FIELDS_BYTES_MAX = 64 * KiB;

/** Erasure: objects are encoded in blocks of 1 MiB (as MinIO's blockSizeV2). */
export const ERASURE_BLOCK_BYTES = 1 * MiB;
/** Objects smaller than this live inside the metadata record (MinIO: 128 KiB). */
export const INLINE_DATA_BYTES_MAX = 128 * KiB;
/** Erasure sets are 2 to 16 drives (as MinIO). */
export const ERASURE_SET_DRIVES_MIN = 2;
export const ERASURE_SET_DRIVES_MAX = 16;
/** A metadata record is at most this large (it may hold inline data and many parts). */
export const METADATA_RECORD_BYTES_MAX = 16 * MiB;
/** A part's note (BodyTransform.note, kept in its part record: the SSE layer's base64 stream IV). */
export const PART_NOTE_CHARS_MAX = 256;
/** Versions kept in one metadata record (MinIO: 10,000 by default). */
export const VERSIONS_PER_OBJECT_MAX = 10_000;

/** Linux NAME_MAX: one path segment on disk is at most 255 bytes (longer key segments are escaped). */
export const FS_NAME_BYTES_MAX = 255;
/** GET reads ahead at most this many erasure blocks while the client consumes one (MinIO: 1). */
export const READ_AHEAD_BLOCKS_MAX = 2;
/** Listing keeps this many sorted directory listings per drive between pages (a metacache-lite). */
export const LIST_DIR_CACHE_ENTRIES_MAX = 256;
/**
 * Listing snapshots kept between pages and listings (object/_list_cache.ts) weigh at most this much
 * in all: one per entry plus one per part of a multipart object (~0.5 KiB each, so ~100 MiB).
 */
export const LIST_CACHE_WEIGHT_MAX = 200_000;
/** At most this many listing snapshots (one per paging walk start) are kept. */
export const LIST_CACHE_SNAPSHOTS_MAX = 64;
/** Changed keys remembered (all buckets together) so that a write leaves the cached listings of
 * other prefixes valid (object/_listing.ts DirCache); past this, older cached listings of the
 * bucket whose change was forgotten go stale. At most this many keys of KEY_LENGTH_BYTES_MAX. */
export const LIST_CACHE_RECENT_WRITES_MAX = 1024;
/** Whole-file reads (records) start with one read of this many bytes: most records fit. */
export const SMALL_READ_BYTES = 8 * KiB;
/** Listings read this many key directories (entries and record) at once, a batch ahead (records
 * hold inline data: at most 2 batches x 32 x ~130 KiB per walked drive). */
export const LIST_SCAN_BATCH_DIRS = 32;
/** A drive's format file is at most this large. */
export const FORMAT_FILE_BYTES_MAX = 1 * MiB;
/** A bucket's metadata record (config documents) is at most this large. */
export const BUCKET_METADATA_BYTES_MAX = 4 * MiB;

// S3 protocol layer, server and command line.
/** Drive paths one command-line argument may expand to (MinIO allows at most 16 sets of 16). */
export const DRIVES_PER_ARG_MAX = 32 * 16;
/** MinIO: the root user is at least 3 characters and the root password at least 8. */
export const ROOT_USER_LENGTH_MIN = 3;
export const ROOT_PASSWORD_LENGTH_MIN = 8;
/** On SIGTERM/SIGINT, in-flight requests get this long to finish before the process exits. */
export const SHUTDOWN_GRACE_MS = 10_000;
/** AWS: GetObjectAttributes and ListParts return at most 1,000 parts a page. */
export const LIST_PARTS_MAX = 1000;
/** AWS: ListObjectVersions continuation and copy-source header values are bounded like keys. */
export const COPY_SOURCE_BYTES_MAX = 2 * KiB;

// WebAssembly core (Reed-Solomon, HighwayHash).
/** klauspost/reedsolomon: GF(2^8) codes have at most 256 data + parity shards (MinIO's ceiling). */
export const RS_SHARDS_MAX = 256;
/**
 * WebAssembly memory of one core instance (shard buffers, tables, staging). No MinIO equivalent
 * (Go's heap is unbounded); wasm32 allows 4 GiB, we stop at 1 GiB: ~700 concurrent 1 MiB 8+4
 * stripes.
 */
export const WASM_MEMORY_BYTES_MAX = 1024 * MiB;
/** Staging area through which the core copies shards and data that do not live in its memory. */
export const WASM_STAGING_BYTES = 1 * MiB;
/** Inverted decode matrices cached per geometry (klauspost keeps an unbounded inversion tree). */
export const RS_DECODE_CACHE_ENTRIES_MAX = 256;

/** SSE: plaintext bytes in one package of the encrypted stream (MinIO's DARE packages: 64 KiB). */
export const SSE_PACKAGE_BYTES = 64 * KiB;
/** SSE-KMS: the encryption context (decoded JSON) is at most this long (AWS caps all request
 * headers at 8 KiB, so a larger context cannot arrive). */
export const SSE_ENCRYPTION_CONTEXT_BYTES_MAX = 8 * KiB;
/** KMS: a key name is at most this many bytes (as MinIO KES key names, letters, digits, - and _). */
export const KMS_KEY_NAME_BYTES_MAX = 64;
/** KMS: at most this many named master keys in the built-in KMS. */
export const KMS_KEYS_MAX = 1000;
/** KMS: at most this many versions of one master key (each rotation adds one). */
export const KMS_KEY_VERSIONS_MAX = 1000;
/** Objects listed per page when SSE key rotation re-seals data keys (AWS's ListObjects page). */
export const SSE_RESEAL_PAGE_KEYS = 1000;
/** KMS key-store entries listed per page at start-up (AWS's ListObjects page). */
export const KMS_STORE_PAGE_KEYS = 1000;
/** DeleteObjects deletes at most this many keys at once (bounded parallelism per request). */
export const DELETE_OBJECTS_PARALLEL_MAX = 16;
/** PUT keeps at most this many encoded blocks in flight to the drives while reading the next. */
export const WRITE_BEHIND_BLOCKS_MAX = 2;
/** AWS: ListBuckets returns at most 10,000 buckets a page (max-buckets). */
export const LIST_BUCKETS_PAGE_MAX = 10_000;
/**
 * AWS IAM: a managed policy document is at most 6,144 characters, whitespace not counted
 * (CreatePolicy: 409 LimitExceeded). MinIO allows a 20 KiB body; we keep AWS's limit (issue 7).
 */
export const IAM_POLICY_CHARS_MAX = 6_144;
/** Statements in one policy document (AWS bounds them only through the size; this bounds loops). */
export const POLICY_STATEMENTS_MAX = 1000;

// Operations: metrics and the usage scan.
/** A Prometheus bearer token (Authorization header) is at most this long (MinIO's JWTs are ~250). */
export const PROMETHEUS_TOKEN_BYTES_MAX = 8 * KiB;
/**
 * Bucket and object usage is recounted at most this often, and only after a write (MinIO's data
 * scanner runs a cycle about every minute).
 */
export const USAGE_SCAN_INTERVAL_MS = 60_000;
/** The usage scan lists this many keys a page (AWS: ListObjects returns at most 1,000). */
export const USAGE_SCAN_PAGE_KEYS = 1000;
/** The usage scan reads at most this many keys a second (MinIO's scanner also sleeps between objects). */
export const USAGE_SCAN_KEYS_PER_SECOND_MAX = 10_000;
/** MinIO: an access key is 3 to 20 characters (AWS's own are 16 to 128). */
export const ACCESS_KEY_CHARS_MIN = 3;
export const ACCESS_KEY_CHARS_MAX = 20;
/** MinIO: a secret key is 8 to 40 characters. */
export const SECRET_KEY_CHARS_MIN = 8;
export const SECRET_KEY_CHARS_MAX = 40;
/** The whole IAM document (users, groups, policies, service accounts) stored as one object. */
export const IAM_DOCUMENT_BYTES_MAX = 16 * MiB;
/** AWS IAM: user, group and policy names are at most 128 characters. */
export const IAM_NAME_CHARS_MAX = 128;
/** Parsed bucket policies kept in memory (one per bucket; the cache empties when full). */
export const BUCKET_POLICY_CACHE_ENTRIES_MAX = 10_000;
/** An admin API request body (a policy document or a user's keys, as JSON). */
export const ADMIN_BODY_BYTES_MAX = 64 * KiB;
/** AWS STS: DurationSeconds of AssumeRole is 900 to 43,200 (default 3,600). */
export const STS_DURATION_SECONDS_MIN = 900;
export const STS_DURATION_SECONDS_MAX = 43_200;
export const STS_DURATION_SECONDS_DEFAULT = 3_600;
/** AWS STS: an inline session policy is at most 2,048 characters. */
export const STS_SESSION_POLICY_CHARS_MAX = 2_048;
/** Live STS sessions held in memory (expired ones are dropped first when full). */
export const STS_SESSIONS_MAX = 100_000;
/** A stored STS session record (keys, token with its session policy); refused when larger. */
export const STS_SESSION_RECORD_BYTES_MAX = 16 * KiB;
/**
 * A stored STS session is kept this long past its expiry (so a late request still gets
 * ExpiredToken, as AWS answers), then deleted when next looked up.
 */
export const STS_SESSION_GRACE_SECONDS = 3_600;
/** Stored STS sessions long over are swept at most this often (by an AssumeRole)... */
export const STS_SWEEP_INTERVAL_SECONDS = 3_600;
/** ...and at most this many records looked at per sweep (one listing page, S3's 1,000). */
export const STS_SWEEP_KEYS_MAX = 1_000;
/** Stored STS sessions looked at to list them (admin list-access-keys; one S3 listing page). */
export const STS_LIST_KEYS_MAX = 1_000;
/** An STS form body (Action, Version, DurationSeconds, Policy, ...). */
export const STS_BODY_BYTES_MAX = 16 * KiB;
/** OpenID: after fetching the JWKS, wait this long before fetching it again for an unknown key id. */
export const OIDC_JWKS_REFRESH_COOLDOWN_MS = 1_000;
/** Heal: objects healed a second by a bucket walk (MinIO throttles its healing scanner likewise). */
export const HEAL_OBJECTS_PER_SECOND_MAX = 200;
/** Heal on read: keys waiting to be healed; more are left to the bucket walk. */
export const HEAL_QUEUE_KEYS_MAX = 10_000;
/**
 * Heal on read: a key whose heal could not finish (a drive gone, a write failing) is not queued
 * again by reads for this long, so that a dead drive does not make every read heal its object.
 */
export const HEAL_RETRY_AFTER_MS = 60_000;
/** Heal's walk of a bucket reads this many keys from the drives at a time, then heals them. */
export const HEAL_WALK_PAGE_KEYS = 1000;
/**
 * Heal scanner: the pause between the end of one walk of every bucket and the start of the next
 * (SHALE_SCANNER_INTERVAL overrides; MinIO's data scanner also cycles continuously with pauses).
 */
export const SCANNER_INTERVAL_MS = 60 * 60_000;
/** Heal scanner: objects checked a second (SHALE_SCANNER_OBJECTS_PER_SECOND overrides). */
export const SCANNER_OBJECTS_PER_SECOND_MAX = 100;
/**
 * Heal scanner: every this many walks one reads every shard frame (bitrot); the others compare
 * records and shard file sizes only (MinIO's scanner also deep-scans only now and then).
 */
export const SCANNER_DEEP_EVERY_CYCLES = 16;
/** Heal scanner: the first walk starts this long after start-up, so start-up stays quick. */
export const SCANNER_START_DELAY_MS = 1_000;
/** Heal sequences (admin API) remembered for their progress, the oldest finished forgotten first. */
export const HEAL_SEQUENCES_MAX = 64;
/** Admin heal: objects healed a second by a sequence started through the admin API. */
export const HEAL_SEQUENCE_OBJECTS_PER_SECOND_MAX = 1_000;
/** A shard file being written gets a background fdatasync every this many bytes, so the disk
 * writes while later blocks are encoded (MinIO gets the same effect with O_DIRECT writes). */
export const WRITEBACK_BYTES = 8 * MiB;

/**
 * MD5 (the ETag) of bodies from this size up (or of unknown size) runs on a worker thread
 * (src/object/md5_offload.ts): at about 0.6 GB/s it was 44% of the main thread's busy time on
 * large PUTs. 4 concurrent PUTs on tmpfs drives, inline vs worker: 1 MiB bodies no gain (the
 * round trip costs what it saves), 4 MiB +8-23%, 16 MiB +17-36%.
 */
export const MD5_OFFLOAD_MIN_BYTES = 4 * MiB;
/** Bytes gathered before one message to the MD5 worker. */
export const MD5_OFFLOAD_BATCH_BYTES = 1 * MiB;
/**
 * Bytes all bodies together may have sent to the MD5 worker and not yet had hashed: past it, a
 * body that sends more waits. The worker hashes about 0.6 GB/s, so this is ~50 ms of its work.
 */
export const MD5_OFFLOAD_INFLIGHT_BYTES_MAX = 32 * MiB;
/** 1 MiB batch buffers the worker handed back, kept for the next batches. */
export const MD5_OFFLOAD_SPARE_BATCHES_MAX = 8;
/**
 * Test-only fault injection (SHALE_TEST_FAULTY_DRIVES, src/storage/fault_switch.ts): the control
 * file is read this often, not on every drive call.
 */
export const FAULT_CONTROL_POLL_MS = 100;
/** The control file lists a few drive slots; only this much of it is read. */
export const FAULT_CONTROL_FILE_BYTES_MAX = 4 * KiB;
