/**
 * The platform's CrossGuard policy pack:
 *   pulumi preview --policy-pack policy
 * The rules live in ./rules.ts and are shared with the offline render (npm run render).
 */
import { PolicyPack } from "@pulumi/policy";
import { toStackPolicy } from "./policies";
import { POLICIES } from "./rules";

new PolicyPack("platform", {
  description:
    "Kubernetes platform rules: Pod Security restricted, pinned images, budgets, isolation, data retention.",
  policies: POLICIES.map(toStackPolicy),
});
