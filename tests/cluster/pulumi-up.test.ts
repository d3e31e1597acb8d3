/**
 * Issue 7: `pulumi up` of the dev stack against a real control plane (scripts/cluster: etcd,
 * kube-apiserver, controller-manager, scheduler, kwok nodes from the stack's node pools), with
 * the real engine (scripts/engine) and the Kubernetes provider applying objects (not render
 * mode), so Pulumi's await logic runs for real:
 *
 *   - `up` succeeds: every Deployment is Available and every StatefulSet Ready;
 *   - a second `preview` / `up` shows no changes (any diff is printed field by field);
 *   - changing `platform:overrides.services.api.image` previews exactly one update (the api
 *     Deployment) and `up` rolls out a new ReplicaSet;
 *   - rotating the `db-password` secret updates the env Secrets in place (same uid) and rolls
 *     the pods that read it (the `checksum/secret-env` annotation);
 *   - a change to the `migrate` Job re-runs it, and the api changes only after it succeeded;
 *   - `destroy` removes every object Pulumi created (nothing is protected on the dev tier).
 *
 * Everything runs in a temporary copy of the project (tests/e2e/helpers.ts TempProject) with a
 * file backend of its own; the stack file is Pulumi.dev.yaml with `cluster.kubeconfig` pointing
 * at the test cluster instead of `cluster.context`.
 *
 * Skips, loudly, only when the engine or the cluster binaries are not built
 * (`bash scripts/engine/bootstrap.sh --check` / `bash scripts/cluster/build.sh --check` exit 1).
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlatformConfig } from "../../platform/config";
import { secretChecksum } from "../../components/podspec";
import type { Cluster } from "../../scripts/cluster/cluster";
import { PROJECT_DIR } from "../../scripts/lib/stack-files";
import {
  changes,
  DB_PASSWORD,
  explain,
  nameOf,
  parsePulumiJson,
  TempProject,
  typeOf,
  type PreviewResult,
  type Step,
  type UpResult,
} from "../e2e/helpers";
import { stackConfig, startStackCluster } from "./helpers";

const STACK = "dev";
/** Bounded per pulumi command; the process group is killed when it passes. */
const UP_TIMEOUT = 300_000;
const PREVIEW_TIMEOUT = 180_000;
const NEW_API_IMAGE = "node:24.11.0-alpine3.22";

function built(script: string): { ok: boolean; why: string } {
  const r = spawnSync("bash", [script, "--check"], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
    timeout: 60_000,
  });
  return {
    ok: r.status === 0,
    why: r.error
      ? r.error.message
      : `${script} --check exited ${r.status}: ${(r.stderr ?? "").trim().split("\n").slice(-3).join(" | ")}`,
  };
}

const engine = built("scripts/engine/bootstrap.sh");
const clusterBins = built("scripts/cluster/build.sh");
const skip = !engine.ok || !clusterBins.ok;
if (skip) {
  const bar = "!".repeat(100);
  console.warn(
    `\n${bar}\n!! SKIPPED tests/cluster/pulumi-up: ${[!engine.ok ? `engine not built (${engine.why}); run bash scripts/engine/bootstrap.sh` : "", !clusterBins.ok ? `cluster binaries not built (${clusterBins.why}); run bash scripts/cluster/build.sh` : ""].filter(Boolean).join("; ")}\n${bar}\n`,
  );
}

/** Kubernetes objects in the checkpoint: type token, name, namespace. */
interface StateObject {
  urn: string;
  type: string;
  name: string;
  namespace?: string;
}

/** `kind.version.group` (kubectl's fully qualified resource) for a type token. */
function kubectlResource(type: string): string {
  // kubernetes:apps/v1:Deployment, kubernetes:core/v1:Service
  const [, gv, kind] = type.split(":");
  const [group, version] = gv.split("/");
  // The core group has no name: `namespace.v1` would read as group "v1", so the bare kind.
  return group === "core" ? kind.toLowerCase() : `${kind.toLowerCase()}.${version}.${group}`;
}

/** Every step that is not `same`, with the fields its detailed diff names. */
function describeDiff(steps: readonly Step[]): string[] {
  return steps
    .filter((s) => s.op !== "same")
    .map((s) => {
      const fields = s.detailedDiff
        ? Object.entries(s.detailedDiff).map(
            ([k, v]) => `${k} (${v.kind}${v.inputDiff ? ", input" : ""})`,
          )
        : (s.diffs ?? []);
      return `${s.op} ${typeOf(s.urn)} ${nameOf(s.urn)}: ${fields.join(", ") || "(no field list)"}${s.replaceReasons?.length ? ` replaceReasons=${s.replaceReasons.join(",")}` : ""}`;
    });
}

/** The fields of a ReplicaSet the tests read. */
interface ReplicaSet {
  metadata: { name: string; creationTimestamp: string };
  spec: {
    replicas: number;
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: { containers: { image: string }[] };
    };
  };
  status: { readyReplicas?: number };
}

const isSame = (u: UpResult) =>
  Object.keys(u.summary?.resourceChanges ?? {}).every((op) => op === "same");

describe.skipIf(skip)(
  "pulumi up of the dev stack on a real control plane (kwok nodes)",
  { timeout: 600_000 },
  () => {
    let cluster: Cluster | undefined;
    let project: TempProject | undefined;
    let config: PlatformConfig;
    let kubeEnv: NodeJS.ProcessEnv;
    const timings: Record<string, number> = {};
    const findings: string[] = [];
    let firstUp: UpResult | undefined;
    let managed: StateObject[] = [];

    const preview = (): Promise<PreviewResult> =>
      project!.preview(STACK, { timeoutMs: PREVIEW_TIMEOUT, extraEnv: kubeEnv });
    const up = (): Promise<UpResult> =>
      project!.up(STACK, { timeoutMs: UP_TIMEOUT, extraEnv: kubeEnv });

    /** The ReplicaSets in `ns` matching a label selector. */
    async function replicaSets(ns: string, selector: string): Promise<ReplicaSet[]> {
      const list = JSON.parse(
        await cluster!.kubectlOk(["get", "rs", "-n", ns, "-l", selector, "-o", "json"]),
      ) as { items: ReplicaSet[] };
      return list.items;
    }

    async function diagnose(ns: string): Promise<string> {
      if (!cluster) return "";
      const all = await cluster.kubectl(["get", "all,pvc,pv", "-n", ns, "-o", "wide"]);
      const ev = await cluster.kubectl(["get", "events", "-n", ns, "--sort-by=.lastTimestamp"]);
      return `${all.stdout}\n${all.stderr}\n${ev.stdout}`;
    }

    beforeAll(async () => {
      let t = Date.now();
      config = stackConfig(STACK);
      cluster = await startStackCluster(config);
      timings.clusterStart = Date.now() - t;
      t = Date.now();
      project = await TempProject.create("cluster-up");
      const kubeconfig = cluster.kubeconfig;
      await project.initStack(STACK, (doc) => {
        const c = doc.config["platform:cluster"] as Record<string, unknown>;
        delete c.renderYamlToDirectory;
        delete c.context;
        c.kubeconfig = kubeconfig;
      });
      kubeEnv = { KUBECONFIG: kubeconfig };
      timings.projectInit = Date.now() - t;
    }, 240_000);

    afterAll(async () => {
      const t = Date.now();
      try {
        await cluster?.stop();
      } finally {
        timings.clusterStop = Date.now() - t;
        project?.cleanup();
        console.log(
          `pulumi-up timings (ms): ${JSON.stringify({ ...timings, ...cluster?.timings })}`,
        );
        if (findings.length > 0) console.log(`pulumi-up FINDINGS:\n  ${findings.join("\n  ")}`);
      }
    }, 60_000);

    it("pulumi up succeeds; every Deployment is Available and every StatefulSet Ready", async () => {
      const t = Date.now();
      firstUp = await up();
      timings.firstUp = Date.now() - t;
      if (firstUp.code !== 0 || firstUp.summary?.result !== "succeeded") {
        const nsList = (await cluster!.kubectl(["get", "ns", "-o", "name"])).stdout;
        const diag = (
          await Promise.all(
            nsList
              .split("\n")
              .map((l) => l.replace("namespace/", ""))
              .filter((n) => n && !n.startsWith("kube-") && n !== "default")
              .map(diagnose),
          )
        ).join("\n");
        throw new Error(`${explain(firstUp)}\n--- cluster ---\n${diag}`);
      }
      console.log(
        `first up: ${JSON.stringify(firstUp.summary?.resourceChanges)} in ${timings.firstUp} ms`,
      );
      // The await logic's progress messages (e.g. MinimumReplicasUnavailable while the pods
      // start) are warnings but transient; errors would have failed the update.
      const warnings = firstUp.events
        .filter((e) => e.diagnosticEvent?.severity === "warning")
        .map((e) => {
          const d = e.diagnosticEvent!;
          return `${d.urn ? nameOf(d.urn) : ""}: ${d.message.trim()}`;
        });
      console.log(`first up warnings (${warnings.length}):\n  ${warnings.join("\n  ")}`);
      // The secret must not appear in clear (or base64) in what `up --json` prints.
      const leaks = firstUp.events.filter((e) => {
        const text = JSON.stringify(e);
        return (
          text.includes(DB_PASSWORD) || text.includes(Buffer.from(DB_PASSWORD).toString("base64"))
        );
      });
      if (leaks.length > 0)
        findings.push(
          `the db-password secret (plain or base64) appears in ${leaks.length} event(s) of \`pulumi up --json\`, e.g.:\n    ${JSON.stringify(leaks[0]).slice(0, 400)}`,
        );

      // The objects Pulumi manages, from the checkpoint.
      const state = await project!.exportState(STACK);
      managed = (state.deployment.resources ?? [])
        .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers:"))
        .map((r) => {
          const meta = ((r as { outputs?: { metadata?: { name: string; namespace?: string } } })
            .outputs?.metadata ?? { name: "" }) as { name: string; namespace?: string };
          return {
            urn: r.urn,
            type: r.type,
            name: meta.name,
            ...(meta.namespace ? { namespace: meta.namespace } : {}),
          };
        });
      expect(managed.length).toBeGreaterThan(0);
      const kinds = (k: string) => managed.filter((m) => m.type.endsWith(`:${k}`));
      expect(kinds("Deployment").length).toBeGreaterThan(0);
      expect(kinds("StatefulSet").length).toBeGreaterThan(0);

      for (const d of kinds("Deployment")) {
        const o = JSON.parse(
          await cluster!.kubectlOk(["get", "deployment", d.name, "-n", d.namespace!, "-o", "json"]),
        ) as {
          spec: { replicas: number };
          status: {
            availableReplicas?: number;
            conditions?: { type: string; status: string }[];
          };
        };
        const available = o.status.conditions?.find((c) => c.type === "Available");
        expect(available?.status, `deployment ${d.namespace}/${d.name} Available`).toBe("True");
        expect(o.status.availableReplicas ?? 0).toBe(o.spec.replicas);
      }
      for (const s of kinds("StatefulSet")) {
        const o = JSON.parse(
          await cluster!.kubectlOk([
            "get",
            "statefulset",
            s.name,
            "-n",
            s.namespace!,
            "-o",
            "json",
          ]),
        ) as {
          spec: { replicas: number };
          status: { readyReplicas?: number; currentRevision?: string; updateRevision?: string };
        };
        expect(o.status.readyReplicas ?? 0, `statefulset ${s.namespace}/${s.name} ready`).toBe(
          o.spec.replicas,
        );
        expect(o.status.currentRevision).toBe(o.status.updateRevision);
      }
      // Jobs: the dev stack has only a CronJob; it runs no Job during `up` (nothing to await).
      const jobs = await cluster!.kubectlOk(["get", "jobs", "-A", "-o", "name"]);
      console.log(`jobs after up: ${jobs.trim() || "(none)"}`);
    });

    it("a second preview and up show no changes", async () => {
      expect(firstUp?.summary?.result, "first up must have succeeded").toBe("succeeded");
      let t = Date.now();
      const p = await preview();
      timings.secondPreview = Date.now() - t;
      expect(p.code, explain(p)).toBe(0);
      const previewDiff = describeDiff(p.steps);
      if (previewDiff.length > 0)
        findings.push(`second preview is not empty:\n    ${previewDiff.join("\n    ")}`);

      t = Date.now();
      const second = await up();
      timings.secondUp = Date.now() - t;
      expect(second.code, explain(second)).toBe(0);
      expect(second.summary?.result).toBe("succeeded");
      const upDiff = describeDiff(second.doc?.steps ?? []);
      if (!isSame(second))
        findings.push(
          `second up changed something: ${JSON.stringify(second.summary?.resourceChanges)}\n    ${upDiff.join("\n    ")}`,
        );
      console.log(
        `second preview: ${previewDiff.length === 0 ? "no changes" : previewDiff.join("; ")}; second up: ${JSON.stringify(second.summary?.resourceChanges)}`,
      );
      expect(previewDiff, "second preview must show no changes").toEqual([]);
      expect(isSame(second), `second up must change nothing: ${upDiff.join("; ")}`).toBe(true);
    });

    it("an image change previews exactly one update and rolls the api Deployment", async () => {
      expect(firstUp?.summary?.result, "first up must have succeeded").toBe("succeeded");
      const api = managed.find(
        (m) => m.type === "kubernetes:apps/v1:Deployment" && m.name === "api",
      );
      expect(api, "the api Deployment is in the state").toBeDefined();
      const before = JSON.parse(
        await cluster!.kubectlOk(["get", "deployment", "api", "-n", api!.namespace!, "-o", "json"]),
      ) as {
        metadata: { generation: number };
        spec: { template: { spec: { containers: { image: string }[] } } };
      };
      expect(before.spec.template.spec.containers[0].image).not.toBe(NEW_API_IMAGE);

      project!.editStack(STACK, (doc) => {
        const o = (doc.config["platform:overrides"] ?? {}) as {
          services?: Record<string, Record<string, unknown>>;
        };
        o.services = o.services ?? {};
        o.services.api = { ...(o.services.api ?? {}), image: NEW_API_IMAGE };
        doc.config["platform:overrides"] = o;
      });

      let t = Date.now();
      const p = await preview();
      timings.imagePreview = Date.now() - t;
      expect(p.code, explain(p)).toBe(0);
      const changed = p.steps.filter((s) => s.op !== "same");
      console.log(`image change preview: ${describeDiff(p.steps).join("; ")}`);
      // Exactly one step that is not `same`: an update of the api Deployment (its URN, as the
      // resource names differ from the object names, e.g. `api-deploy`).
      expect(changes(p.steps)).toEqual([`update ${nameOf(api!.urn)}`]);
      expect(changed[0].urn).toBe(api!.urn);

      t = Date.now();
      const u = await up();
      timings.imageUp = Date.now() - t;
      expect(u.code, `${explain(u)}\n${await diagnose(api!.namespace!)}`).toBe(0);
      expect(u.summary?.resourceChanges).toMatchObject({ update: 1 });

      const after = JSON.parse(
        await cluster!.kubectlOk(["get", "deployment", "api", "-n", api!.namespace!, "-o", "json"]),
      ) as {
        metadata: { generation: number };
        spec: { replicas: number; selector: { matchLabels: Record<string, string> } };
        status: {
          observedGeneration: number;
          updatedReplicas?: number;
          availableReplicas?: number;
        };
      };
      expect(after.metadata.generation).toBeGreaterThan(before.metadata.generation);
      expect(after.status.observedGeneration).toBe(after.metadata.generation);
      expect(after.status.updatedReplicas).toBe(after.spec.replicas);
      expect(after.status.availableReplicas).toBe(after.spec.replicas);
      const selector = Object.entries(after.spec.selector.matchLabels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
      const rss = await replicaSets(api!.namespace!, selector);
      const current = rss.filter((r) => r.spec.template.spec.containers[0].image === NEW_API_IMAGE);
      const old = rss.filter((r) => r.spec.template.spec.containers[0].image !== NEW_API_IMAGE);
      expect(current).toHaveLength(1);
      expect(old.length).toBeGreaterThan(0);
      expect(current[0].status.readyReplicas).toBe(after.spec.replicas);
      for (const r of old) expect(r.spec.replicas, `old ReplicaSet ${r.metadata.name}`).toBe(0);
    });

    it("rotating a secret updates its env Secrets in place and rolls the pods that read it", async () => {
      expect(firstUp?.summary?.result, "first up must have succeeded").toBe("succeeded");
      const ns = managed.find(
        (m) => m.type === "kubernetes:apps/v1:Deployment" && m.name === "api",
      )?.namespace;
      expect(ns, "the api Deployment is in the state").toBeDefined();
      type SecretObject = { metadata: { uid: string }; data: Record<string, string> };
      const getSecret = async () =>
        JSON.parse(
          await cluster!.kubectlOk(["get", "secret", "api-env", "-n", ns!, "-o", "json"]),
        ) as SecretObject;
      const before = await getSecret();
      expect(Buffer.from(before.data.DB_PASSWORD, "base64").toString()).toBe(DB_PASSWORD);

      const rotated = "rotated-Secret-Value-43";
      await project!.pulumiOk([
        "config",
        "set",
        "--secret",
        "db-password",
        rotated,
        "--stack",
        STACK,
      ]);
      const t = Date.now();
      const u = await up();
      timings.secretRotationUp = Date.now() - t;
      expect(u.code, `${explain(u)}\n${await diagnose(ns!)}`).toBe(0);
      console.log(`secret rotation up: ${describeDiff(u.doc?.steps ?? []).join("; ")}`);
      expect(
        (u.doc?.steps ?? []).filter(
          (s) =>
            s.op !== "same" && s.op !== "update" && typeOf(s.urn) !== "kubernetes:batch/v1:Job",
        ),
        "nothing is replaced but the migrate Job, which runs again with the new secret",
      ).toEqual([]);

      // The same Secret object (uid), new data: updated in place, never deleted and re-created.
      const after = await getSecret();
      expect(after.metadata.uid).toBe(before.metadata.uid);
      expect(Buffer.from(after.data.DB_PASSWORD, "base64").toString()).toBe(rotated);

      // The api pods roll: one ReplicaSet carries the new checksum and is ready, the others are
      // scaled to 0.
      const checksum = secretChecksum(await project!.checksumKey(STACK), ns!, "api", {
        DB_PASSWORD: rotated,
      });
      const rss = await replicaSets(ns!, "app.kubernetes.io/name=api");
      const sum = (r: ReplicaSet) => r.spec.template.metadata.annotations?.["checksum/secret-env"];
      const current = rss.filter((r) => sum(r) === checksum);
      expect(current, "one ReplicaSet with the new checksum").toHaveLength(1);
      expect(current[0].status.readyReplicas).toBe(current[0].spec.replicas);
      for (const r of rss.filter((x) => sum(x) !== checksum))
        expect(r.spec.replicas, `old ReplicaSet ${r.metadata.name}`).toBe(0);
    });

    it("the migrate job (before: [api]) runs again on a change, and completes before the api changes", async () => {
      expect(firstUp?.summary?.result, "first up must have succeeded").toBe("succeeded");
      const ns = managed.find(
        (m) => m.type === "kubernetes:apps/v1:Deployment" && m.name === "api",
      )?.namespace;
      const otherImage = "node:24.10.0-alpine3.22";
      // A new migration (its env) and a new api version in one change.
      project!.editStack(STACK, (doc) => {
        const o = (doc.config["platform:overrides"] ?? {}) as {
          services?: Record<string, Record<string, unknown> | null>;
        };
        o.services = o.services ?? {};
        o.services.api = { ...(o.services.api ?? {}), image: otherImage };
        o.services.migrate = { ...(o.services.migrate ?? {}), env: { MIGRATION: "2" } };
        doc.config["platform:overrides"] = o;
      });
      const t = Date.now();
      const u = await up();
      timings.jobBeforeUp = Date.now() - t;
      expect(u.code, `${explain(u)}\n${await diagnose(ns!)}`).toBe(0);
      console.log(`job before api: ${describeDiff(u.doc?.steps ?? []).join("; ")}`);
      const jobOps = (u.doc?.steps ?? [])
        .filter((x) => x.urn.endsWith("::migrate-job"))
        .map((x) => x.op);
      expect(
        jobOps.some((op) => op.includes("replace")),
        `migrate-job steps: ${jobOps}`,
      ).toBe(true);

      // Pulumi recorded the order: the api Deployment depends on the migrate Job...
      const state = await project!.exportState(STACK);
      const resources = state.deployment.resources as {
        urn: string;
        type: string;
        dependencies?: string[];
      }[];
      const jobUrn = resources.find((r) => r.type === "kubernetes:batch/v1:Job")?.urn;
      expect(jobUrn, "the migrate Job is in the state").toMatch(/::migrate-job$/);
      const apiDeploy = resources.find((r) => r.urn.endsWith("::api-deploy"));
      expect(apiDeploy?.dependencies ?? []).toContain(jobUrn);

      // ...and kept it: the Job had succeeded before the api's new ReplicaSet was created.
      const job = JSON.parse(
        await cluster!.kubectlOk(["get", "job", "migrate", "-n", ns!, "-o", "json"]),
      ) as { status: { succeeded?: number; completionTime?: string } };
      expect(job.status.succeeded).toBe(1);
      const rss = await replicaSets(ns!, "app.kubernetes.io/name=api");
      const current = rss.find((r) => r.spec.template.spec.containers[0].image === otherImage);
      expect(current, "a ReplicaSet runs the new api image").toBeDefined();
      expect(Date.parse(current!.metadata.creationTimestamp)).toBeGreaterThanOrEqual(
        Date.parse(job.status.completionTime!),
      );
    });

    it("pulumi destroy removes every object it created", async () => {
      expect(managed.length).toBeGreaterThan(0);
      const t = Date.now();
      const r = await project!.pulumi(["destroy", "--yes", "--json", "--stack", STACK], {
        timeoutMs: UP_TIMEOUT,
        extraEnv: kubeEnv,
      });
      timings.destroy = Date.now() - t;
      expect(r.code, explain(r)).toBe(0);
      const summary = parsePulumiJson(r.stdout).events.find((e) => e.summaryEvent)?.summaryEvent;
      if (summary) console.log(`destroy: ${JSON.stringify(summary.resourceChanges)}`);

      const state = await project!.exportState(STACK);
      expect(
        (state.deployment.resources ?? []).filter((x) => x.type.startsWith("kubernetes:")),
      ).toEqual([]);

      const left: string[] = [];
      for (const m of managed) {
        const g = await cluster!.kubectl(
          [
            "get",
            kubectlResource(m.type),
            m.name,
            ...(m.namespace ? ["-n", m.namespace] : []),
            "-o",
            "name",
          ],
          { timeoutMs: 30_000 },
        );
        if (g.code === 0) left.push(`${m.type} ${m.namespace ?? ""}/${m.name}`);
        else expect(g.stderr, `${m.type} ${m.name}`).toMatch(/NotFound|not found/);
      }
      expect(left, "objects left after destroy").toEqual([]);
      // The namespaces are gone, so nothing of theirs remains (pods, ReplicaSets, PVCs).
      const namespaces = [...new Set(managed.flatMap((m) => (m.namespace ? [m.namespace] : [])))];
      for (const ns of namespaces) {
        const g = await cluster!.kubectl(["get", "namespace", ns]);
        expect(g.code, `namespace ${ns} after destroy`).not.toBe(0);
      }
      // What Pulumi never owned: PersistentVolumes bound to the StatefulSet's retained claims.
      const pvs = await cluster!.kubectlOk([
        "get",
        "pv",
        "-o",
        "custom-columns=NAME:.metadata.name,STATUS:.status.phase,CLAIM:.spec.claimRef.name",
        "--no-headers",
      ]);
      if (pvs.trim())
        findings.push(
          `PersistentVolumes left after destroy (not Pulumi objects):\n    ${pvs.trim().split("\n").join("\n    ")}`,
        );
    });
  },
);
