// The IAM layer's public API: the policy language and its evaluation, the canned policies, the
// S3 action map and the authorization decision.
export * from "./policy.ts";
export * from "./canned.ts";
export * from "./identity.ts";
export * from "./s3_actions.ts";
export * from "./authorize.ts";
export * from "./store.ts";
export {
  ADMIN_PREFIX,
  type AdminApiOptions,
  adminNotImplemented,
  authenticateAdminRequest,
  authorizeAdmin,
  handleIamAdmin,
} from "./admin_api.ts";
export * from "./sts.ts";
export * from "./oidc.ts";
export {
  ADMIN_USAGE,
  type AdminCliIo,
  adminRequest,
  type AdminTarget,
  adminTarget,
  CREDENTIALS_NEEDED,
  parseAdminArgs,
  runAdminCommand,
} from "./admin_cli.ts";
