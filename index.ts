/**
 * The platform program: read the stack config (and the application files it lists, relative to
 * this directory, where Pulumi.yaml is), check it, build the environment, export what operators
 * and the next pipeline stage need.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  sdkRegistrationLogsOffForRun,
  stackTracesOffForRun,
  withoutStackTraces,
} from "./components";
import {
  CapacityError,
  capacityFigures as capacityFiguresOf,
  ConfigError,
  Platform,
  loadPlatformConfig,
} from "./platform";

// Off for the whole run, not only while the constructors run: the SDK registers asynchronously.
stackTracesOffForRun();
// The SDK's debug messages about each registration (one gRPC call each; components/sdk-debug-logs.ts).
sdkRegistrationLogsOffForRun();

/** Problems the user can fix in config: their message is the whole story, with no stack. */
const CONFIG_PROBLEMS = [ConfigError, CapacityError];

function build(): { platform: Platform; release: string | undefined } {
  try {
    const loaded = loadPlatformConfig(__dirname);
    // An unexpected error thrown here says how to see where it came from (components/stack-traces.ts).
    const platform = withoutStackTraces(() => new Platform(pulumi.getStack(), loaded), {
      passThrough: CONFIG_PROBLEMS,
    });
    return { platform, release: loaded.release };
  } catch (e) {
    // A clean, readable failure (no stack trace).
    if (e instanceof Error && CONFIG_PROBLEMS.some((c) => e instanceof c))
      throw new pulumi.RunError(e.message);
    throw e;
  }
}

const { platform, release: running } = build();

/** Namespaces the stack manages. */
export const namespaces = Object.keys(platform.tenants);
/** In-cluster endpoints (`host:port`) by service. */
export const endpoints = platform.endpoints;
/** Public hosts served by Ingresses and HTTPRoutes (a review stack's, suffixed). */
export const hosts = platform.hosts;
/** The image reference each service runs: what promotion copies to the next stack. */
export const images = platform.images;
/**
 * The commit this program is (set by `npm run deploy`; absent from a plain `pulumi up`): what
 * promotion pins in the next stage, with the images.
 */
export const release = running;
/** The capacity plan (quota fit, placement on the node pools, failover) as a table. */
export const capacity = platform.capacityReport.text;
/** The same plan as Markdown with utilisation bars, for pull request comments. */
export const capacityMarkdown = platform.capacityReport.markdown;
/** Each quota's and pool's use, compact: what a reviewer's diff compares (`npm run diff`). */
export const capacityFigures = capacityFiguresOf(platform.capacity);
/** In a review stack (pr-<n>): the pull request and the services it runs. */
export const review = platform.plan.config.review && {
  pullRequest: platform.plan.config.review.pullRequest,
  services: Object.keys(platform.plan.config.services).sort(),
};
