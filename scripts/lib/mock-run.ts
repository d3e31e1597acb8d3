/**
 * Runs the Pulumi program for one stack under Pulumi's mock engine: no CLI, no cluster, no
 * credentials. Records every resource the program registers (type, logical name, URN, inputs).
 * Mocks are process-global, so this runs once per process.
 */
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { loadStackFiles, SECRET_PLACEHOLDER, type StackFiles } from "./stack-files";

export interface CapturedResource {
  readonly type: string;
  readonly name: string;
  /** `urn:pulumi:<stack>::<project>::<parent types $ joined>::<name>` */
  readonly urn: string;
  readonly custom: boolean;
  readonly provider: string | undefined;
  readonly inputs: Record<string, unknown>;
}

export interface MockRunResult {
  readonly files: StackFiles;
  readonly resources: CapturedResource[];
  /** The program's exports, resolved. */
  readonly outputs: Record<string, unknown>;
  /** Secret keys that had no value and were filled with the placeholder. */
  readonly filledSecrets: string[];
}

export interface MockRunOptions {
  readonly projectDir: string;
  readonly stack: string;
  /** Any stack file to use instead of Pulumi.<stack>.yaml. */
  readonly stackFile?: string;
  /**
   * Give referenced secret keys that the stack file does not set a placeholder value, as a
   * reviewer without the stack's secrets needs. @default false
   */
  readonly fillMissingSecrets?: boolean;
  /** Extra config (full keys) on top of the files, e.g. secret values in tests. */
  readonly extraConfig?: Record<string, string>;
  readonly extraSecretKeys?: string[];
}

interface SettingsInternals {
  waitForRPCs?: () => Promise<void>;
}

/** Settles every outstanding registration (the SDK's own RPC queue). */
export async function waitForRegistrations(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as SettingsInternals;
  if (!settings.waitForRPCs)
    throw new Error(
      "this @pulumi/pulumi version no longer exposes waitForRPCs; update scripts/lib/mock-run.ts",
    );
  await settings.waitForRPCs();
}

function referencedSecretKeys(config: Record<string, string>, project: string): string[] {
  const keys = new Set<string>();
  const collect = (json: string | undefined) => {
    if (!json) return;
    try {
      const parsed = JSON.parse(json) as Record<string, { secretEnv?: Record<string, string> }>;
      for (const svc of Object.values(parsed ?? {}))
        for (const k of Object.values(svc?.secretEnv ?? {})) keys.add(`${project}:${k}`);
    } catch {
      // Invalid JSON is reported by the program itself.
    }
  };
  collect(config[`${project}:services`]);
  const overrides = config[`${project}:overrides`];
  if (overrides) {
    try {
      collect(JSON.stringify((JSON.parse(overrides) as { services?: unknown }).services ?? {}));
    } catch {
      // Reported by the program.
    }
  }
  return [...keys];
}

async function resolve(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    return new Promise((res) => (value as pulumi.Output<unknown>).apply((v) => res(v)));
  }
  return value;
}

export async function runUnderMocks(opts: MockRunOptions): Promise<MockRunResult> {
  const files = loadStackFiles(opts.projectDir, opts.stack, opts.stackFile);
  const config = { ...files.config, ...(opts.extraConfig ?? {}) };
  const secretKeys = [...files.secretKeys, ...(opts.extraSecretKeys ?? [])];
  const filledSecrets: string[] = [];
  if (opts.fillMissingSecrets) {
    for (const key of referencedSecretKeys(config, files.project)) {
      if (config[key] === undefined) {
        config[key] = SECRET_PLACEHOLDER;
        secretKeys.push(key);
        filledSecrets.push(key);
      }
    }
  }

  const resources: CapturedResource[] = [];
  const pending = new Map<string, Omit<CapturedResource, "urn">>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        pending.set(`${args.type}::${args.name}`, {
          type: args.type,
          name: args.name,
          custom: args.custom ?? false,
          provider: args.provider || undefined,
          inputs: args.inputs as Record<string, unknown>,
        });
        // Providers and objects echo their inputs as state; an id makes dependents resolve.
        return {
          id: args.custom ? `${args.name}-id` : undefined,
          state: args.inputs as Record<string, unknown>,
        };
      },
      call(args) {
        throw new Error(`the program made an unexpected call to ${args.token}`);
      },
    },
    files.project,
    opts.stack,
    false,
  );
  pulumi.runtime.setAllConfig(config, secretKeys);

  const program = (await import(join(opts.projectDir, "index.ts"))) as Record<string, unknown>;
  await waitForRegistrations();
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    resources: Map<string, { urn: string }>;
  };
  for (const urn of monitor.resources.keys()) {
    // urn:pulumi:<stack>::<project>::<parent types joined by $>$<type>::<name>
    const parts = urn.split("::");
    const type = parts[2].split("$").pop()!;
    const rec = pending.get(`${type}::${parts.slice(3).join("::")}`);
    if (rec) resources.push({ ...rec, urn });
  }
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) {
    if (key === "default" || key === "__esModule") continue;
    outputs[key] = await resolve(value);
  }
  return { files, resources, outputs, filledSecrets };
}
