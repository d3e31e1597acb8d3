/**
 * Every sample stack through the real engine in render mode: preview, up, a second up that
 * changes nothing, the written manifests against the offline render, and destroy.
 * One temporary project (one file-backend state dir) holds the four stacks; they run one after
 * another, each with one shared `up`.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { SDK_DEBUG_LOGS_ENV } from "../../components/sdk-debug-logs";
import {
  changes,
  compareWithOffline,
  countOps,
  DB_PASSWORD,
  describeEngine,
  explain,
  identityOf,
  isKubernetesObject,
  readManifests,
  useProject,
  type PreviewResult,
  type RunResult,
  type UpResult,
} from "./helpers";

interface OfflineSummary {
  readonly objects: number;
  readonly resources: Record<string, string>;
}

/** The objects prod protects and retains on delete (README "Naming and data safety"). */
const PROD_RETAINED = [
  "Namespace/shop",
  "PriorityClass/shop-batch",
  "PriorityClass/shop-critical",
  "Service/shop/postgres",
  "Service/shop/postgres-headless",
  "StatefulSet/shop/postgres",
  "StorageClass/platform-retain",
];

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) =>
      f.endsWith(".yaml"),
    );
  } catch {
    return [];
  }
}

describeEngine("sample stacks through the engine (render mode, file backend)", () => {
  const project = useProject("stacks");

  for (const stack of ["local", "dev", "staging", "prod"]) {
    describe(`stack ${stack}`, () => {
      let preview: PreviewResult;
      let up: UpResult;
      let upAgain: UpResult;
      let offline: { out: string; result: RunResult; summary: OfflineSummary };
      let manifestsAfterUp: string[];

      beforeAll(async () => {
        const p = project();
        await p.initStack(stack);
        preview = await p.preview(stack);
        up = await p.up(stack);
        manifestsAfterUp = filesUnder(p.renderDir(stack));
        upAgain = await p.up(stack);
        const r = await p.offlineRender(stack);
        if (r.result.code !== 0) throw new Error(explain(r.result));
        offline = {
          ...r,
          summary: JSON.parse(readFileSync(join(r.out, "summary.json"), "utf8")) as OfflineSummary,
        };
      });

      test("preview plans to create exactly the offline render's objects, same Pulumi identities", () => {
        expect(preview.code, explain(preview)).toBe(0);
        expect(countOps(preview.steps)).toEqual({ create: preview.steps.length });
        expect(preview.doc?.changeSummary).toEqual({ create: preview.steps.length });
        const planned = preview.steps
          .filter((s) => isKubernetesObject(s.urn))
          .map((s) => identityOf(s.urn))
          .sort();
        expect(planned).toEqual(Object.values(offline.summary.resources).sort());
      });

      test("every namespaced object of a workload depends on its Namespace (dependsOn reaches children)", async () => {
        const state = await project().exportState(stack);
        const resources = (state.deployment.resources ?? []) as {
          urn: string;
          type: string;
          parent?: string;
          dependencies?: string[];
        }[];
        const namespaces = resources.filter((r) => r.type === "kubernetes:core/v1:Namespace");
        expect(namespaces.length).toBeGreaterThan(0);
        const workloadChildren = resources.filter(
          (r) => r.type.startsWith("kubernetes:") && /\$platform:workloads:/.test(r.urn),
        );
        expect(workloadChildren.length).toBeGreaterThan(0);
        const missing = workloadChildren
          .filter((r) => !namespaces.some((ns) => r.dependencies?.includes(ns.urn)))
          .map((r) => r.urn.split("::").pop());
        expect(missing).toEqual([]);
      });

      test("the state records no declaration stack for the platform's resources (stack-traces.ts)", async () => {
        const state = await project().exportState(stack);
        const resources = (state.deployment.resources ?? []) as {
          type: string;
          sourcePosition?: string;
          stackTrace?: unknown[];
        }[];
        expect(resources.filter((r) => r.type.startsWith("kubernetes:")).length).toBeGreaterThan(
          10,
        );
        // Only the stack itself (registered by the SDK before the program's code runs) has one.
        const withStack = resources.filter((r) => r.sourcePosition || r.stackTrace?.length);
        expect(withStack.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
      });

      if (stack === "local") {
        test(`the SDK's debug messages about each registration are not sent unless ${SDK_DEBUG_LOGS_ENV}=1 (sdk-debug-logs.ts)`, async () => {
          const p = project();
          const args = ["preview", "--debug", "--stack", stack];
          const off = await p.pulumi(args);
          const on = await p.pulumi(args, { extraEnv: { [SDK_DEBUG_LOGS_ENV]: "1" } });
          // The CLI shows the program's debug messages twice (as progress and in its
          // diagnostics): each message counted once.
          const lines = (r: RunResult, what: RegExp) => [
            ...new Set(
              `${r.stdout}\n${r.stderr}`
                .split("\n")
                .filter((l) => what.test(l))
                .map((l) => l.slice(l.indexOf("debug: "))),
            ),
          ];
          const registration = /debug: (Registering resource: |RegisterResource(Outputs)? RPC )/;
          for (const r of [off, on]) {
            expect(r.code, explain(r)).toBe(0);
            expect(r.stdout).toContain(`${preview.steps.length} unchanged`);
            // Debug messages do reach the CLI, e.g. the SDK's before the program starts.
            expect(lines(r, /debug: Running program /).length).toBeGreaterThan(0);
          }
          expect(lines(on, /debug: Registering resource: /)).toHaveLength(preview.steps.length);
          expect(lines(on, /debug: RegisterResource RPC finished: /)).toHaveLength(
            preview.steps.length,
          );
          // Without it, only the stack's own (the SDK registers it before the program starts).
          expect(
            lines(off, registration).filter((l) => !l.includes("pulumi:pulumi:Stack")),
          ).toEqual([]);
        });
      }

      test("up creates them and the provider writes one manifest per object", () => {
        expect(up.code, explain(up)).toBe(0);
        expect(up.summary?.result).toBe("succeeded");
        expect(up.summary?.resourceChanges).toEqual({ create: preview.steps.length });
        expect(manifestsAfterUp).toHaveLength(offline.summary.objects);
      });

      test("a second up reports no changes", () => {
        expect(upAgain.code, explain(upAgain)).toBe(0);
        expect(upAgain.summary?.resourceChanges).toEqual({ same: preview.steps.length });
        expect(changes(upAgain.doc?.steps ?? [])).toEqual([]);
      });

      test("the engine's manifests agree with the offline render (differences explained)", async () => {
        const cmp = compareWithOffline(
          project().renderDir(stack),
          offline.out,
          DB_PASSWORD,
          await project().checksumKey(stack),
        );
        expect(cmp.onlyInEngine).toEqual([]);
        expect(cmp.onlyOffline).toEqual([]);
        expect(cmp.differences).toEqual([]);
        // The secrets are the only objects written differently in every stack.
        expect(cmp.explained.filter((e) => e.startsWith("Secret/"))).toHaveLength(5);
        // ...and the pods of those five services carry the checksum of the real values.
        expect(cmp.explained.filter((e) => e.includes("checksum/secret-env"))).toHaveLength(5);
      });

      test("the state holds the secret and the checksum key encrypted, never in plain text", async () => {
        const key = await project().checksumKey(stack);
        expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes from npm run stack:init
        const stackFile = readFileSync(project().stackFile(stack), "utf8");
        expect(stackFile).toMatch(/secretChecksumKey:\n\s+secure: v1:/);
        expect(stackFile).not.toContain(key);
        const state = readdirSync(project().stateDir, { recursive: true, encoding: "utf8" })
          .filter((f) => f.endsWith(".json"))
          .map((f) => readFileSync(join(project().stateDir, f), "utf8"))
          .join("\n");
        expect(state).not.toContain(DB_PASSWORD);
        expect(state).not.toContain(Buffer.from(DB_PASSWORD).toString("base64"));
        expect(state).not.toContain(key);
      });

      if (stack === "prod") {
        test("destroy refuses while protected; after unprotect it removes all but the retained objects", async () => {
          const p = project();
          const before = await p.exportState(stack);
          const refused = await p.pulumi(["destroy", "--yes", "--stack", stack]);
          expect(refused.code, explain(refused)).not.toBe(0);
          expect(refused.stdout + refused.stderr).toMatch(
            /cannot be deleted\s+because it is protected/,
          );
          expect((await p.exportState(stack)).deployment.resources).toEqual(
            before.deployment.resources,
          );

          await p.pulumiOk(["state", "unprotect", "--all", "--yes", "--stack", stack]);
          const destroyed = await p.pulumi(["destroy", "--yes", "--stack", stack]);
          expect(destroyed.code, explain(destroyed)).toBe(0);
          expect((await p.exportState(stack)).deployment.resources ?? []).toEqual([]);
          // retainOnDelete: the engine forgets them but never asks the provider to delete them.
          expect([...readManifests(p.renderDir(stack)).keys()].sort()).toEqual(PROD_RETAINED);
        });
      } else {
        test("destroy removes every object and every manifest", async () => {
          const p = project();
          const destroyed = await p.pulumi(["destroy", "--yes", "--stack", stack]);
          expect(destroyed.code, explain(destroyed)).toBe(0);
          expect((await p.exportState(stack)).deployment.resources ?? []).toEqual([]);
          expect(filesUnder(p.renderDir(stack))).toEqual([]);
        });
      }
    });
  }
});
