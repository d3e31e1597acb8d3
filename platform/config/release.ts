/**
 * Releases: what travels the pipeline is a commit of this repository (the program and the
 * application it describes) with the image digests its stage ran. A stage after the first pins
 * the commit it runs in its stack file (`platform:release`, written by promote); the program
 * runs a pinned stack only as that commit (`npm run deploy` checks the commit out), and exports
 * the release it ran so the next promotion copies exactly that.
 */
import type { PlatformConfig } from "./schema";
import type { Stage } from "./stages";

/** The stack config key pinning a stage's release. */
export const RELEASE_KEY = "release";

/**
 * The environment variable through which `npm run deploy` (and the render of a pinned stack)
 * tells the program which commit it is: a full commit id, with `-dirty` when the work tree had
 * uncommitted changes.
 */
export const RELEASE_ENV = "PLATFORM_RELEASE";

const COMMIT = /^[0-9a-f]{40}$/;
const RUNNING = /^[0-9a-f]{40}(-dirty)?$/;

/** What is wrong with a `platform:release` value, or undefined. */
export function releasePinProblem(value: unknown): string | undefined {
  if (typeof value === "string" && COMMIT.test(value)) return undefined;
  return `${RELEASE_KEY}: expected a full commit id (40 lowercase hex digits), got ${JSON.stringify(value)}; promote writes it (npm run promote), do not edit it by hand`;
}

/** Whether a value is a release a program can report (a commit id, maybe `-dirty`). */
export function isRunningRelease(value: string): boolean {
  return RUNNING.test(value);
}

/** Whether a release is a commit with uncommitted changes on top (never promoted). */
export function isDirty(release: string): boolean {
  return release.endsWith("-dirty");
}

/** The first 12 digits of a release, for messages. */
export function shortRelease(release: string): string {
  return release.length > 12
    ? `${release.slice(0, 12)}${isDirty(release) ? "-dirty" : ""}`
    : release;
}

/**
 * Why this program may not run a stack that pins `pinned` (undefined when it may): a pinned
 * stack runs its release only, so a plain `pulumi up` from a newer checkout cannot slip the
 * newer program into a later stage.
 */
export function runningReleaseProblem(
  pinned: string,
  running: string | undefined,
  stack = "<stack>",
): string | undefined {
  if (running === pinned) return undefined;
  const how = `run it with \`npm run deploy -- --stage ${stack} --command up\`, which checks that commit out`;
  if (running === undefined)
    return `${RELEASE_KEY}: ${stack} runs release ${shortRelease(pinned)} only and this program does not know its own commit (${RELEASE_ENV} is not set); ${how}`;
  return `${RELEASE_KEY}: ${stack} runs release ${shortRelease(pinned)}, but this program is ${shortRelease(running)}; ${how}, or promote the newer release into ${stack}`;
}

/**
 * The pod-template annotation that stamps a gate's verification Job with the release it ran
 * for: a new release changes it, so the Job is replaced and runs again (see ./stages, `gate`).
 */
export const RELEASE_ANNOTATION = "platform/release";

/** The job services that the stages fed by `stack`'s stage verify releases with. */
export function verificationJobs(stages: readonly Stage[], stack: string | undefined): string[] {
  const stage = stages.find((s) => s.stack === stack);
  if (!stage) return [];
  return [
    ...new Set(
      stages.flatMap((s) =>
        s.from === stage.name && s.gate?.verify !== undefined ? [s.gate.verify] : [],
      ),
    ),
  ].sort();
}

/** Why a gate's `verify` does not name a job service of the stack that must run it. */
export function verificationProblems(
  stages: readonly Stage[],
  stack: string | undefined,
  services: Readonly<Record<string, { readonly kind: string }>>,
): string[] {
  const stage = stages.find((s) => s.stack === stack);
  if (!stage) return [];
  return stages.flatMap((s, i) => {
    const job = s.from === stage.name ? s.gate?.verify : undefined;
    if (job === undefined) return [];
    const svc = services[job];
    if (svc?.kind === "job") return [];
    const jobs = Object.keys(services).filter((n) => services[n].kind === "job");
    return [
      `stages[${i}].gate.verify: ${svc ? `"${job}" is a ${svc.kind}, not a job` : `"${job}" is not a service of ${stack}`}; ${s.name} takes releases from ${stage.name}, which must run it as a job service (its jobs: ${jobs.join(", ") || "none"})`,
    ];
  });
}

/**
 * `config` with each verification Job's pods stamped with the running release, and the Job
 * ready for Pulumi once it exists (`pulumi.com/waitFor` on its name): it verifies what was
 * deployed after the deploy, so a failing verification fails the gate, not the deploy that it
 * verifies. (Not `pulumi.com/skipAwait`: that also skips waiting for the old Job's deletion
 * when a new release replaces it, and the new one then collides with it.)
 */
export function withReleaseStamp(
  config: PlatformConfig,
  jobs: readonly string[],
  release: string | undefined,
): PlatformConfig {
  if (release === undefined || jobs.length === 0) return config;
  const services = { ...config.services };
  for (const job of jobs) {
    const svc = services[job];
    if (svc === undefined) continue;
    services[job] = {
      ...svc,
      podAnnotations: { ...svc.podAnnotations, [RELEASE_ANNOTATION]: release },
      patches: [
        ...(svc.patches ?? []),
        {
          kind: "Job",
          patch: { metadata: { annotations: { [WAIT_FOR]: "jsonpath={.metadata.name}" } } },
        },
      ],
    };
  }
  return { ...config, services };
}

/** The Kubernetes provider's annotation: what makes a created or updated object ready. */
const WAIT_FOR = "pulumi.com/waitFor";
