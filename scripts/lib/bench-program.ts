/**
 * The engine benchmark's other programs (`scripts/bench-engine.ts --program`), for weighing the
 * components against the same objects registered without them. A temporary copy of the project
 * runs one as its index.ts; the real program never does.
 *
 * - `floor`: each object the platform plans, registered as a raw @pulumi/kubernetes resource
 *   (what the components cost is the difference).
 * - `batched:N`: the same objects in `kubernetes:yaml/v2:ConfigGroup`s, one for the cluster's
 *   and tenants' objects, then one per N workloads depending on it. The provider registers a
 *   group's objects itself (in Go), so the program makes a handful of registrations instead of
 *   thousands, while the engine still plans, diffs and records every object.
 *
 * Both plan exactly as the program does (loadPlatformConfig, planPlatform) and render through a
 * provider with the platform's settings.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { registerManifest } from "../../components/register";
import { providerArgs } from "../../platform/platform";
import type { Manifest } from "../../components/context";
import type { BenchProgram } from "./bench-variants";
import {
  sdkRegistrationLogsOffForRun,
  stackTracesOffForRun,
  withoutStackTraces,
} from "../../components";
import { loadPlatformConfig, planPlatform } from "../../platform";

/** Registers the stack's planned objects as `program` says (run by the copy's index.ts). */
export function runBenchProgram(
  program: Exclude<BenchProgram, "components">,
  projectDir: string,
): void {
  // The program's run settings (index.ts), so only the components differ.
  stackTracesOffForRun();
  sdkRegistrationLogsOffForRun();
  const { config } = loadPlatformConfig(projectDir);
  const plan = planPlatform(config, pulumi.getProject());
  withoutStackTraces(() => {
    const provider = new k8s.Provider("bench-k8s", providerArgs(config));
    const shared: [string, Manifest[]][] = [
      [pulumi.getStack(), plan.cluster],
      ...Object.entries(plan.tenants),
    ];
    const workloads = Object.entries(plan.workloads);
    if (program === "floor") {
      for (const [owner, list] of [...shared, ...workloads])
        for (const m of list) registerManifest(owner, m, { provider });
      return;
    }
    const per = Number(program.slice("batched:".length));
    const objs = (owners: [string, Manifest[]][]) => owners.flatMap(([, list]) => list);
    const base = new k8s.yaml.v2.ConfigGroup(
      "platform-shared",
      { objs: objs(shared) },
      { providers: [provider] },
    );
    for (let i = 0; i < workloads.length; i += per) {
      new k8s.yaml.v2.ConfigGroup(
        `workloads-${i / per}`,
        { objs: objs(workloads.slice(i, i + per)) },
        { providers: [provider], dependsOn: [base] },
      );
    }
  });
}
