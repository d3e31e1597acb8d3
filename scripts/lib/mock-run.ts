/**
 * Runs the Pulumi program for one stack under Pulumi's mock engine: no CLI, no cluster, no
 * credentials. Records every resource the program registers (type, logical name, URN, inputs).
 * Mocks are process-global, so this runs once per process.
 */
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { neededSecretKeys } from "../../platform/config";
import { directoryTree } from "../../platform/source-tree";
import {
  loadStackFiles,
  SECRET_PLACEHOLDER,
  stackApplication,
  type StackFiles,
} from "./stack-files";

export interface CapturedResource {
  readonly type: string;
  readonly name: string;
  /**
   * The URN the engine gives it: `urn:pulumi:<stack>::<project>::<type chain>::<name>`, where the
   * type chain is every ancestor's type, outermost first, then its own, joined by `$`.
   */
  readonly urn: string;
  /** The parent's URN; undefined for a resource without a parent. */
  readonly parent: string | undefined;
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

/** The type of the stack's root resource; the engine leaves it out of its children's URNs. */
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * The URN the engine assigns (pkg/resource NewURN, as the SDK's own `createUrn`): the parent's
 * whole type chain, then `$` and the type; the root stack's type is never part of a chain.
 */
export function engineUrn(
  stack: string,
  project: string,
  parent: string | undefined,
  type: string,
  name: string,
): string {
  const parentChain = parent ? parent.split("::")[2] : undefined;
  const chain = parentChain && parentChain !== ROOT_STACK_TYPE ? `${parentChain}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${chain}::${name}`;
}

/** An object's Pulumi identity: its URN without stack and project (`<type chain>::<name>`). */
export function identityOf(urn: string): string {
  return urn.split("::").slice(2).join("::");
}

interface RegisterRequest {
  getParent(): string;
  getType(): string;
  getName(): string;
}

/** The parts of the SDK's MockMonitor this module relies on (not public API). */
interface MockMonitorInternals {
  resources: Map<string, { urn: string }>;
  newUrn(parent: string, type: string, name: string): string;
  registerResource(req: RegisterRequest, callback: unknown): Promise<void>;
  readResource(req: RegisterRequest, callback: unknown): Promise<void>;
}

/**
 * The SDK's mock monitor builds URNs with only the direct parent's type
 * (`<parent type>$<type>`), so a renamed or retyped grandparent would not show. Make it build the
 * engine's URNs instead, and tell `onRegister` each registration's URN and parent: it runs just
 * before the mock's `newResource` for that registration (which the monitor calls synchronously).
 */
function useEngineUrns(
  stack: string,
  project: string,
  onRegister: (registration: { urn: string; parent: string | undefined } | undefined) => void,
): MockMonitorInternals {
  const monitor = pulumi.runtime.getMonitor() as unknown as Partial<MockMonitorInternals>;
  if (
    !(monitor.resources instanceof Map) ||
    typeof monitor.newUrn !== "function" ||
    typeof monitor.registerResource !== "function" ||
    typeof monitor.readResource !== "function"
  ) {
    throw new Error(
      "this @pulumi/pulumi version's mock monitor no longer has resources, newUrn, registerResource and readResource; update scripts/lib/mock-run.ts",
    );
  }
  const m = monitor as MockMonitorInternals;
  m.newUrn = (parent, type, name) => engineUrn(stack, project, parent || undefined, type, name);
  for (const method of ["registerResource", "readResource"] as const) {
    const original = m[method].bind(m);
    m[method] = (req, callback) => {
      const parent = req.getParent() || undefined;
      onRegister({ urn: engineUrn(stack, project, parent, req.getType(), req.getName()), parent });
      try {
        return original(req, callback);
      } finally {
        onRegister(undefined);
      }
    };
  }
  return m;
}

/**
 * The secret keys the program will read (see `neededSecretKeys`), fully qualified: those of the
 * application (inline and in application files) and of the overrides.
 */
function referencedSecretKeys(files: StackFiles, projectDir: string): string[] {
  const { config, project } = files;
  const keys = new Set<string>();
  const add = (services: unknown) => {
    for (const k of neededSecretKeys(services)) keys.add(`${project}:${k}`);
  };
  const collect = (json: string | undefined, pick: (parsed: unknown) => unknown) => {
    if (!json) return;
    try {
      add(pick(JSON.parse(json)));
    } catch {
      // Invalid JSON is reported by the program itself.
    }
  };
  add(stackApplication(files, directoryTree(projectDir)).services);
  collect(
    config[`${project}:overrides`],
    (overrides) => (overrides as { services?: unknown })?.services,
  );
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
    for (const key of referencedSecretKeys({ ...files, config }, opts.projectDir)) {
      if (config[key] === undefined) {
        config[key] = SECRET_PLACEHOLDER;
        secretKeys.push(key);
        filledSecrets.push(key);
      }
    }
  }

  const resources: CapturedResource[] = [];
  const captured = new Map<string, CapturedResource>();
  let registering: { urn: string; parent: string | undefined } | undefined;
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        if (
          !registering ||
          registering.urn !==
            engineUrn(opts.stack, files.project, registering.parent, args.type, args.name)
        ) {
          throw new Error(
            `mock-run: ${args.type} ${args.name} was registered outside the monitor's registerResource/readResource; update scripts/lib/mock-run.ts for this @pulumi/pulumi version`,
          );
        }
        // The engine refuses a second resource with one URN; so does the render.
        if (captured.has(registering.urn))
          throw new Error(
            `Duplicate resource URN '${registering.urn}'; try giving it a unique name`,
          );
        captured.set(registering.urn, {
          type: args.type,
          name: args.name,
          urn: registering.urn,
          parent: registering.parent,
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
  const monitor = useEngineUrns(opts.stack, files.project, (r) => (registering = r));
  pulumi.runtime.setAllConfig(config, secretKeys);

  const program = (await import(join(opts.projectDir, "index.ts"))) as Record<string, unknown>;
  await waitForRegistrations();
  // In registration order (the monitor's map keeps it).
  for (const urn of monitor.resources.keys()) {
    const rec = captured.get(urn);
    if (rec) resources.push(rec);
  }
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) {
    if (key === "default" || key === "__esModule") continue;
    outputs[key] = await resolve(value);
  }
  return { files, resources, outputs, filledSecrets };
}
