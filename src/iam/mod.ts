// The IAM layer's public API: the policy language, its evaluation, and the canned policies.
export * from "./policy.ts";
export * from "./canned.ts";
