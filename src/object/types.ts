/**
 * The object layer's contract. The S3 layer sees storage only through `ObjectLayer`; this module
 * knows nothing of HTTP. Bodies are streams; nothing buffers a whole object.
 */

export type ChecksumAlgorithm = "CRC32" | "CRC32C" | "SHA1" | "SHA256" | "CRC64NVME";
/** Checksums as S3 shows them: base64 of the big-endian digest. */
export type ChecksumSet = Partial<Record<ChecksumAlgorithm, string>>;
export type ChecksumType = "FULL_OBJECT" | "COMPOSITE";

export interface CompleteOptions {
  conditions?: WriteConditions;
  /**
   * Called with the object's checksum (base64) before anything is committed; throwing refuses the
   * completion (the client's x-amz-checksum-* header names the whole object's checksum).
   */
  verify?: (checksums: ChecksumSet, type: ChecksumType | undefined, parts: number) => void;
  /**
   * Called with the parts chosen, in order (stored sizes, their writers' notes), after `verify`
   * and before anything is committed; what it returns is added to the object's internal metadata
   * in the same commit (the SSE layer's part-list MAC). Throwing refuses the completion.
   */
  seal?: (parts: SealedPart[]) => Record<string, string> | Promise<Record<string, string>>;
}

export interface SealedPart {
  partNumber: number;
  /** Bytes as stored (after the part's transform). */
  size: number;
  /** BodyTransform.note of the part's upload, "" for none. */
  note: string;
}
export type StorageClass = "STANDARD" | "REDUCED_REDUNDANCY";

/** Metadata a client sets on an object and gets back unchanged. */
export interface ObjectMetadata {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  /** User metadata, keys lower-case without the `x-amz-meta-` prefix. */
  user: Record<string, string>;
  /**
   * Server-internal metadata (SSE: sealed key, key id, stream IV), keys lower-case. Stored as
   * `x-shale-internal-<name>` pairs; the S3 layer never returns it to clients and never fills it
   * from request headers.
   */
  internal?: Record<string, string>;
}

/**
 * A transform applied to a body after it is metered and hashed, before erasure coding (SSE
 * encryption). Size checks, MD5, checksums and `verify` see the body as the client sent it; the
 * record's size, shard layout and `ObjectReader.stream` offsets are those of the transformed bytes.
 */
export interface BodyTransform {
  stream: ReadableWritablePair<Uint8Array, Uint8Array>;
  /** Bytes the transform emits for the declared body size, or -1 when unknown. */
  storedSize: number;
  /** The ETag to store instead of the hex MD5 of the body (SSE-C and SSE-KMS). */
  etag?: (md5: Uint8Array) => string;
  /**
   * A part's only: kept in its part record and handed to CompleteOptions.seal at completion (the
   * SSE layer's stream IV), at most PART_NOTE_CHARS_MAX characters.
   */
  note?: string;
}

export interface PartInfo {
  partNumber: number;
  /** ETag without quotes. */
  etag: string;
  size: number;
  lastModified: Date;
  checksums: ChecksumSet;
}

export interface ObjectInfo {
  bucket: string;
  key: string;
  /** Always "null" until versioning exists. */
  versionId: string;
  size: number;
  /** ETag without quotes: hex MD5, or hex MD5-of-part-MD5s followed by `-N`. */
  etag: string;
  lastModified: Date;
  storageClass: StorageClass;
  metadata: ObjectMetadata;
  checksums: ChecksumSet;
  checksumType?: ChecksumType;
  /** Parts of a multipart object, in order; empty for a single PUT. */
  parts: PartInfo[];
  /** Tags as an ordered list of key/value pairs. */
  tags: Array<[string, string]>;
}

export interface BucketInfo {
  name: string;
  created: Date;
}

/** Conditions checked under the object's lock at commit time (conditional writes). */
export interface WriteConditions {
  /** Quoted or unquoted ETag, or `*`: the current object must exist and match. */
  ifMatch?: string;
  /** Only `*`: the object must not exist. */
  ifNoneMatch?: string;
}

/** What the body hashed to: given to `verify` before a write commits. */
export interface BodyDigest {
  size: number;
  md5: Uint8Array;
  checksums: ChecksumSet;
}

export interface PutObjectOptions {
  /** Exact body length in bytes, or -1 when unknown (the stream's end is the end). */
  size: number;
  metadata: ObjectMetadata;
  storageClass?: StorageClass;
  tags?: Array<[string, string]>;
  /** Checksums to compute over the body and store (beyond MD5, which is always computed). */
  checksumAlgorithms?: ChecksumAlgorithm[];
  /** Called after the body ended and before commit; throwing aborts: nothing is stored. */
  verify?: (digest: BodyDigest) => void | Promise<void>;
  conditions?: WriteConditions;
  /** Overrides the stored checksum type (multipart copy semantics). */
  checksumType?: ChecksumType;
  /** Encrypts (or otherwise transforms) the body before it is stored. */
  transform?: BodyTransform;
}

export interface PutPartOptions {
  size: number;
  checksumAlgorithms?: ChecksumAlgorithm[];
  verify?: (digest: BodyDigest) => void | Promise<void>;
  /** Encrypts (or otherwise transforms) the part before it is stored. */
  transform?: BodyTransform;
}

export interface MultipartUploadInfo {
  bucket: string;
  key: string;
  uploadId: string;
  initiated: Date;
  storageClass: StorageClass;
  metadata: ObjectMetadata;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface NewMultipartOptions {
  metadata: ObjectMetadata;
  storageClass?: StorageClass;
  tags?: Array<[string, string]>;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface CompletePart {
  partNumber: number;
  etag: string;
  checksums?: ChecksumSet;
}

export interface ListObjectsOptions {
  prefix: string;
  delimiter: string;
  /** Exclusive: list keys strictly after this (marker / start-after / continuation). */
  after: string;
  maxKeys: number;
}

export interface ListObjectsResult {
  objects: ObjectInfo[];
  prefixes: string[];
  isTruncated: boolean;
  /** The last key or prefix returned, to pass as `after` for the next page. */
  nextAfter?: string;
}

export interface ListUploadsOptions {
  prefix: string;
  delimiter: string;
  keyMarker: string;
  uploadIdMarker: string;
  maxUploads: number;
}

export interface ListUploadsResult {
  uploads: MultipartUploadInfo[];
  prefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}

export interface ListPartsOptions {
  partNumberMarker: number;
  maxParts: number;
}

export interface ListPartsResult {
  upload: MultipartUploadInfo;
  parts: PartInfo[];
  isTruncated: boolean;
  nextPartNumberMarker?: number;
}

/** An open object: its info, pinned, and a way to stream any byte range of that version. */
export interface ObjectReader {
  info: ObjectInfo;
  /** Streams `length` bytes from `offset`; ranges are already validated by the caller. */
  stream(offset: number, length: number): ReadableStream<Uint8Array>;
  /** Releases the version (its read lock) when the caller will not stream. */
  close(): void;
}

/** Per-bucket configuration documents kept as opaque strings (XML or JSON as given). */
export type BucketConfigName =
  | "tagging"
  | "cors"
  | "policy"
  | "encryption"
  | "versioning"
  | "lifecycle";

export interface ObjectLayer {
  makeBucket(bucket: string): Promise<void>;
  getBucketInfo(bucket: string): Promise<BucketInfo>;
  listBuckets(): Promise<BucketInfo[]>;
  /** Fails with BucketNotEmpty unless the bucket holds no objects and no uploads. */
  deleteBucket(bucket: string): Promise<void>;
  getBucketConfig(bucket: string, name: BucketConfigName): Promise<string | undefined>;
  /** `undefined` deletes the document. */
  putBucketConfig(bucket: string, name: BucketConfigName, value: string | undefined): Promise<void>;

  putObject(
    bucket: string,
    key: string,
    body: ReadableStream<Uint8Array>,
    opts: PutObjectOptions,
  ): Promise<ObjectInfo>;
  getObjectInfo(bucket: string, key: string): Promise<ObjectInfo>;
  openObject(bucket: string, key: string): Promise<ObjectReader>;
  /** Deleting a missing key succeeds, as in S3. */
  deleteObject(bucket: string, key: string): Promise<void>;
  /** Replaces the tags (and nothing else) of the current version. */
  putObjectTags(bucket: string, key: string, tags: Array<[string, string]>): Promise<ObjectInfo>;
  /**
   * Replaces the internal metadata of the current version while its ETag and internal metadata
   * are still `expected` (else undefined, nothing changed): SSE re-seals keys this way.
   */
  putObjectInternal(
    bucket: string,
    key: string,
    internal: Record<string, string>,
    expected: { etag: string; internal: Record<string, string> | undefined },
  ): Promise<ObjectInfo | undefined>;

  listObjects(bucket: string, opts: ListObjectsOptions): Promise<ListObjectsResult>;

  newMultipartUpload(bucket: string, key: string, opts: NewMultipartOptions): Promise<string>;
  getMultipartUpload(bucket: string, key: string, uploadId: string): Promise<MultipartUploadInfo>;
  putObjectPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: ReadableStream<Uint8Array>,
    opts: PutPartOptions,
  ): Promise<PartInfo>;
  listParts(
    bucket: string,
    key: string,
    uploadId: string,
    opts: ListPartsOptions,
  ): Promise<ListPartsResult>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletePart[],
    opts: CompleteOptions,
  ): Promise<ObjectInfo>;
  listMultipartUploads(bucket: string, opts: ListUploadsOptions): Promise<ListUploadsResult>;

  /** Drive and quorum state, for health and start-up messages. */
  status(): Promise<StorageStatus>;
  /** Stops background work and closes drives. */
  close(): Promise<void>;
}

export interface DriveStatus {
  path: string;
  state: "ok" | "offline" | "unformatted" | "faulty";
  totalBytes?: number;
  freeBytes?: number;
}

export interface StorageStatus {
  drives: DriveStatus[];
  /** True when every erasure set has its write quorum. */
  writable: boolean;
  /** True when every erasure set has its read quorum. */
  readable: boolean;
}
