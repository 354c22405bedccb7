export { createS3Handler, type S3Handler } from "./dispatch.ts";
export { type S3Server, type S3ServerOptions, startS3Server } from "./server.ts";
export { type CredentialStore, staticCredentialStore } from "./credentials.ts";
export type { S3Options } from "./context.ts";
export { S3Error, type S3ErrorCode } from "./errors.ts";
export { type OperationName, routeRequest } from "./router.ts";
export type { ConnectionInfo, RequestObserver, RequestRecord } from "./observer.ts";
export { attachKmsStore, handleKmsAdmin, runKmsCommand } from "./kms_admin.ts";
