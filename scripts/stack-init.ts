/**
 * Sets a stack up so the program can run it, with nothing typed by hand:
 *
 *   npm run stack:init -- --stack <name> [--secrets-provider <provider>] [--rotate-checksum-key]
 *
 * 1. Creates the stack in the backend you are logged in to, unless it exists, with the secrets
 *    provider given (`passphrase` writes `encryptionsalt` into Pulumi.<stack>.yaml; `awskms://…`,
 *    `gcpkms://…`, `azurekeyvault://…` and `hashivault://…` write the encrypted data key).
 * 2. Gives it `secretChecksumKey`, unless it has one: 32 random bytes (base64url), encrypted with
 *    the stack's secrets provider, passed to `pulumi config set --secret` on stdin (never on the
 *    command line). It keys the `checksum/secret-env` pod annotations, an HMAC of the services'
 *    secret values, so the annotation rolls the pods on a secret change and reveals nothing about
 *    the values to whoever reads a Deployment or a preview. `--rotate-checksum-key` replaces it:
 *    every workload with `secretEnv` then rolls its pods once at the next `pulumi up`.
 *
 * Running it again on a ready stack changes nothing. The stack's config file must exist first
 * (its tier and cluster are reviewed in git like any change).
 *
 * Exit codes: 0 the stack is ready; 1 a pulumi command failed (its output is shown), or the file
 * holds the key in plain text; 2 usage error, no such stack file, or `pulumi` is not on PATH.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { exitWhenFlushed, parseFlags, UsageError } from "./lib/cli";
import { run, type RunResult } from "./lib/run";
import { listStacks, loadStackFiles } from "./lib/stack-files";
import { SECRET_CHECKSUM_KEY as CHECKSUM_KEY } from "../platform/config/checks";

const USAGE = `usage: npm run stack:init -- --stack <name> [--secrets-provider <provider>] [--rotate-checksum-key] [--cwd <dir>]
  --stack                the stack to set up (its Pulumi.<stack>.yaml must exist); org/project/stack
                         names are taken as they are, the file is named by the last part
  --secrets-provider     for a new stack: passphrase (PULUMI_CONFIG_PASSPHRASE), awskms://...,
                         gcpkms://..., azurekeyvault://..., hashivault://... (default: the backend's)
  --rotate-checksum-key  replace the stack's secretChecksumKey (every workload with secretEnv
                         rolls its pods once at the next pulumi up)
  --cwd                  the Pulumi project directory (default: the current directory)
exit codes: 0 ready, 1 a pulumi command failed or the key is stored in plain text, 2 usage error`;

export interface StackInitOptions {
  readonly stack: string;
  /** The name in Pulumi.<name>.yaml: the last part of an org/project/stack name. */
  readonly fileStack: string;
  readonly secretsProvider?: string;
  readonly rotate: boolean;
  readonly cwd: string;
  readonly help: boolean;
}

/** Pulumi's stack name rule (each part of org/project/stack). */
const STACK_PART = /^[A-Za-z0-9_.-]+$/;

export function parseStackInitArgs(argv: readonly string[]): StackInitOptions {
  const values = parseFlags(
    argv,
    {
      stack: { type: "string" },
      "secrets-provider": { type: "string" },
      "rotate-checksum-key": { type: "boolean" },
      cwd: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  const cwd = resolve(values.cwd ?? ".");
  if (values.help) return { stack: "", fileStack: "", rotate: false, cwd, help: true };
  if (!values.stack) throw new UsageError(`give --stack <name>\n${USAGE}`);
  const parts = values.stack.split("/");
  if (parts.length > 3 || parts.some((p) => !STACK_PART.test(p)))
    throw new UsageError(
      `--stack ${JSON.stringify(values.stack)}: a stack name is letters, digits, '-', '_' and '.' (optionally org/project/stack)`,
    );
  const provider = values["secrets-provider"];
  if (provider !== undefined && !/^(passphrase|default|[a-z]+:\/\/.+)$/.test(provider))
    throw new UsageError(
      `--secrets-provider ${JSON.stringify(provider)}: give passphrase or a URL such as awskms://alias/platform, gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k, azurekeyvault://vault.vault.azure.net/keys/k`,
    );
  return {
    stack: values.stack,
    fileStack: parts[parts.length - 1],
    ...(provider !== undefined ? { secretsProvider: provider } : {}),
    rotate: values["rotate-checksum-key"] === true,
    cwd,
    help: false,
  };
}

/** How a stack's file holds the checksum key. */
export type KeyState = "secret" | "plain" | "missing";

/** What to do about the checksum key: keep it, set a new one, or refuse (plain text). */
export function checksumKeyAction(state: KeyState, rotate: boolean): "keep" | "set" | "refuse" {
  if (rotate) return "set";
  if (state === "secret") return "keep";
  return state === "missing" ? "set" : "refuse";
}

/** A new checksum key: 32 random bytes, base64url (43 characters). */
export function newChecksumKey(): string {
  return randomBytes(32).toString("base64url");
}

/** How the stack file at `cwd` holds the checksum key. */
export function checksumKeyState(cwd: string, fileStack: string): KeyState {
  const files = loadStackFiles(cwd, fileStack);
  const full = `${files.project}:${CHECKSUM_KEY}`;
  if (files.secretKeys.includes(full)) return "secret";
  // A project-level value in Pulumi.yaml would be plain text too.
  return files.config[full] === undefined ? "missing" : "plain";
}

class StepFailed extends Error {
  override name = "StepFailed";
}

/**
 * Runs pulumi with a bound; throws StepFailed with its output when it fails, unless
 * `mayFail` (then the caller reads the exit code). Without pulumi on PATH: a UsageError.
 */
async function pulumi(
  args: readonly string[],
  opts: { cwd: string; input?: string; mayFail?: boolean },
): Promise<RunResult> {
  const r = await run("pulumi", [...args, "--non-interactive"], {
    cwd: opts.cwd,
    timeoutMs: 300_000,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  if (r.error?.code === "ENOENT")
    throw new UsageError(
      "pulumi is not on PATH (source scripts/engine/env.sh, or install the Pulumi CLI)",
    );
  if (r.code !== 0 && !opts.mayFail)
    throw new StepFailed(
      `pulumi ${args.join(" ")} failed (${r.timedOut ? "timed out" : `exit ${r.code}`}):\n${(r.stderr || r.stdout).trim()}`,
    );
  return r;
}

/** Sets the stack up; returns what it did, one line each. */
export async function initStack(opts: StackInitOptions): Promise<string[]> {
  const file = join(opts.cwd, `Pulumi.${opts.fileStack}.yaml`);
  if (!existsSync(file)) {
    const known = listStacks(opts.cwd);
    throw new UsageError(
      `no ${basename(file)} in ${opts.cwd}: write the stack's config first (tier, cluster; see the README's stacks section)${known.length > 0 ? `; stacks here: ${known.join(", ")}` : ""}`,
    );
  }
  const done: string[] = [];
  const selected = await pulumi(["stack", "select", opts.stack], {
    cwd: opts.cwd,
    mayFail: true,
  });
  if (selected.code === 0) {
    done.push(
      `stack ${opts.stack}: exists${opts.secretsProvider ? `; its secrets provider is left as it is (change it with: pulumi stack change-secrets-provider)` : ""}`,
    );
  } else {
    await pulumi(
      [
        "stack",
        "init",
        opts.stack,
        ...(opts.secretsProvider ? ["--secrets-provider", opts.secretsProvider] : []),
      ],
      { cwd: opts.cwd },
    );
    done.push(
      `stack ${opts.stack}: created${opts.secretsProvider ? ` (secrets provider ${opts.secretsProvider})` : ""}`,
    );
  }

  const state = checksumKeyState(opts.cwd, opts.fileStack);
  switch (checksumKeyAction(state, opts.rotate)) {
    case "keep":
      done.push(`${CHECKSUM_KEY}: set already (kept)`);
      break;
    case "refuse":
      throw new StepFailed(
        `${CHECKSUM_KEY}: ${basename(file)} holds it in plain text, so it keys nothing secret; replace it with: npm run stack:init -- --stack ${opts.stack} --rotate-checksum-key`,
      );
    case "set":
      await pulumi(["config", "set", "--secret", CHECKSUM_KEY, "--stack", opts.stack], {
        cwd: opts.cwd,
        input: newChecksumKey(),
      });
      done.push(
        state === "missing"
          ? `${CHECKSUM_KEY}: generated (32 random bytes, encrypted in ${basename(file)})`
          : `${CHECKSUM_KEY}: replaced; every workload with secretEnv rolls its pods once at the next pulumi up`,
      );
  }
  return done;
}

async function main(argv: readonly string[]): Promise<number> {
  let opts: StackInitOptions;
  try {
    opts = parseStackInitArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`stack-init: ${e.message}`);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    for (const line of await initStack(opts)) console.log(`stack-init: ${line}`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`stack-init: ${e.message}`);
      return 2;
    }
    if (e instanceof StepFailed) {
      console.error(`stack-init: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then(exitWhenFlushed);
