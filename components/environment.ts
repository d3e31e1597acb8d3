/**
 * The environment components are built for (cloud, tier, cluster defaults), resolved once with
 * its defaults: a generic cluster, tier dev, the Pulumi project as `app.kubernetes.io/part-of`.
 */
import * as pulumi from "@pulumi/pulumi";
import { cloudProfile } from "./cloud";
import type { ResolvedEnvironment } from "./context";
import { parseWith } from "./issues";
import { environmentSchema } from "./schema";
import type { Environment } from "./types";

/** Validates and resolves `environment`; problems name `environment.<key>`. */
export function resolveEnvironment(environment: Environment | undefined): {
  readonly resolved?: ResolvedEnvironment;
  readonly problems: string[];
} {
  const { data, problems } = parseWith(environmentSchema, environment ?? {}, "environment");
  if (!data) return { problems };
  const { cloud, tier, partOf, multiZone, ...cluster } = data;
  return {
    resolved: {
      project: partOf ?? pulumi.getProject(),
      tier: tier ?? "dev",
      cluster,
      profile: cloudProfile(cloud ?? "generic"),
      multiZone: multiZone ?? false,
    },
    problems,
  };
}
