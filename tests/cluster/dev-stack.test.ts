/**
 * The dev stack, rendered by the real program (scripts/render.ts), applied with server-side
 * apply to a real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler
 * and kwok nodes from the stack's node pools): every object is accepted, Pod Security admission
 * (enforce: restricted, from our namespace labels) admits every pod we generate and rejects a
 * non-compliant one, Deployments become Available and the StatefulSet Ready on the fake nodes.
 *
 * Skips, saying so, only when the binaries are not built (bash scripts/cluster/build.sh).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlatformConfig } from "../../platform/config";
import { planCapacity } from "../../platform/capacity/capacity";
import { startCluster, type Cluster } from "../../scripts/cluster/cluster";
import { render } from "../../scripts/render";
import { clusterBinariesOrWarn, stackConfig } from "./helpers";
import { PROJECT_DIR } from "../../scripts/lib/stack-files";

const bins = clusterBinariesOrWarn("tests/cluster/dev-stack");

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
};

/** Every YAML document render() wrote, cluster-scoped objects first. */
function readRendered(dir: string): Obj[] {
  const out: Obj[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith(".yaml")) out.push(parse(readFileSync(p, "utf8")) as Obj);
    }
  };
  walk(join(dir, "cluster"));
  walk(join(dir, "namespaces"));
  return out;
}

const list = (items: readonly unknown[]) =>
  JSON.stringify({ apiVersion: "v1", kind: "List", items });

async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe.skipIf(!bins)(
  "dev stack on a real control plane (kwok nodes)",
  { timeout: 180_000 },
  () => {
    let cluster: Cluster;
    let objects: Obj[];
    let config: PlatformConfig;
    let renderDir: string;
    const timings: Record<string, number> = {};
    const applyOutput = { stdout: "", stderr: "" };

    beforeAll(async () => {
      let t = Date.now();
      renderDir = mkdtempSync(join(tmpdir(), "render-dev-"));
      await render({ projectDir: PROJECT_DIR, stack: "dev", out: join(renderDir, "out") });
      objects = readRendered(join(renderDir, "out"));
      config = stackConfig("dev");
      timings.render = Date.now() - t;
      t = Date.now();
      cluster = await startCluster({
        nodePools: config.cluster.nodePools ?? {},
        log: (l) => console.log(`[cluster] ${l}`),
      });
      timings.start = Date.now() - t;
    }, 150_000);

    afterAll(async () => {
      const t = Date.now();
      await cluster?.stop();
      timings.stop = Date.now() - t;
      if (renderDir) rmSync(renderDir, { recursive: true, force: true });
      console.log(`dev stack timings (ms): ${JSON.stringify({ ...timings, ...cluster?.timings })}`);
    }, 60_000);

    it("starts with the stack's node pools as Ready nodes", async () => {
      const nodes = JSON.parse(await cluster.kubectlOk(["get", "nodes", "-o", "json"])) as {
        items: { metadata: { name: string }; status: { allocatable: Record<string, string> } }[];
      };
      expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(
        cluster.nodes.map((n) => n.name).sort(),
      );
      const version = JSON.parse(await cluster.kubectlOk(["version", "-o", "json"])) as {
        serverVersion: { gitVersion: string };
      };
      expect(version.serverVersion.gitVersion).toBe(`v${bins!.versions.kubernetes}`);
    });

    it("accepts every rendered object with server-side apply", async () => {
      const t = Date.now();
      // What a cloud would already have: the storage classes our StatefulSets name (kind's
      // `standard`), provisioned by kwok's volume stages.
      const classes = new Set<string>();
      for (const o of objects) {
        if (o.kind !== "StatefulSet") continue;
        for (const c of (o.spec?.volumeClaimTemplates ?? []) as {
          spec?: { storageClassName?: string };
        }[]) {
          if (c.spec?.storageClassName) classes.add(c.spec.storageClassName);
        }
      }
      const defined = new Set(
        objects.filter((o) => o.kind === "StorageClass").map((o) => o.metadata.name),
      );
      const storageClasses = [...classes]
        .filter((c) => !defined.has(c))
        .map((name) => ({
          apiVersion: "storage.k8s.io/v1",
          kind: "StorageClass",
          metadata: { name },
          provisioner: "kwok.x-k8s.io/volume",
          volumeBindingMode: "WaitForFirstConsumer",
        }));
      if (storageClasses.length > 0)
        await cluster.kubectlOk(["apply", "--server-side", "-f", "-"], {
          input: list(storageClasses),
        });

      // Namespaces and cluster-scoped objects first; then wait for the quota controller to fill
      // in each ResourceQuota's status, as quota admission needs it.
      const first = objects.filter(
        (o) => !o.metadata.namespace || o.kind === "ResourceQuota" || o.kind === "LimitRange",
      );
      const rest = objects.filter((o) => !first.includes(o));
      const apply = async (objs: Obj[]) => {
        const r = await cluster.kubectl(
          ["apply", "--server-side", "--field-manager=pulumi-kubernetes", "-f", "-"],
          { input: list(objs), timeoutMs: 60_000 },
        );
        applyOutput.stdout += r.stdout;
        applyOutput.stderr += r.stderr;
        expect(r.stderr, "kubectl apply errors").not.toMatch(/error|Error/);
        expect(r.code).toBe(0);
        return r.stdout.split("\n").filter((l) => / serverside-applied$/.test(l)).length;
      };
      let applied = await apply(first);
      for (const q of first.filter((o) => o.kind === "ResourceQuota")) {
        await until(`quota ${q.metadata.namespace}/${q.metadata.name} status`, 30_000, async () => {
          const r = await cluster.kubectl([
            "get",
            "resourcequota",
            q.metadata.name,
            "-n",
            q.metadata.namespace!,
            "-o",
            "jsonpath={.status.hard}",
          ]);
          return r.code === 0 && r.stdout.length > 2 ? true : undefined;
        });
      }
      applied += await apply(rest);
      expect(applied).toBe(objects.length);
      // The namespaces warn as well as enforce: no pod template may trigger a PodSecurity warning.
      expect(applyOutput.stderr).not.toMatch(/PodSecurity/);
      timings.apply = Date.now() - t;
    });

    it("schedules every pod: Deployments Available, StatefulSets Ready on the kwok nodes", async () => {
      const t = Date.now();
      const namespaces = [
        ...new Set(objects.flatMap((o) => (o.metadata.namespace ? [o.metadata.namespace] : []))),
      ];
      for (const ns of namespaces) {
        for (const d of objects.filter(
          (o) => o.kind === "Deployment" && o.metadata.namespace === ns,
        )) {
          const r = await cluster.kubectl(
            ["rollout", "status", `deployment/${d.metadata.name}`, "-n", ns, "--timeout=90s"],
            { timeoutMs: 100_000 },
          );
          expect(
            r.code,
            `deployment ${ns}/${d.metadata.name}: ${r.stderr}\n${await diagnose(ns)}`,
          ).toBe(0);
        }
        for (const s of objects.filter(
          (o) => o.kind === "StatefulSet" && o.metadata.namespace === ns,
        )) {
          const r = await cluster.kubectl(
            ["rollout", "status", `statefulset/${s.metadata.name}`, "-n", ns, "--timeout=90s"],
            { timeoutMs: 100_000 },
          );
          expect(
            r.code,
            `statefulset ${ns}/${s.metadata.name}: ${r.stderr}\n${await diagnose(ns)}`,
          ).toBe(0);
        }
        // Jobs (kind job, e.g. migrate) run to completion.
        for (const j of objects.filter((o) => o.kind === "Job" && o.metadata.namespace === ns)) {
          const r = await cluster.kubectl(
            [
              "wait",
              "--for=condition=Complete",
              `job/${j.metadata.name}`,
              "-n",
              ns,
              "--timeout=90s",
            ],
            { timeoutMs: 100_000 },
          );
          expect(r.code, `job ${ns}/${j.metadata.name}: ${r.stderr}\n${await diagnose(ns)}`).toBe(
            0,
          );
        }
        const pods = JSON.parse(
          await cluster.kubectlOk(["get", "pods", "-n", ns, "-o", "json"]),
        ) as {
          items: {
            metadata: { name: string; labels?: Record<string, string> };
            spec: { nodeName?: string };
            status: { phase: string };
          }[];
        };
        const nodeNames = new Set(cluster.nodes.map((n) => n.name));
        for (const p of pods.items) {
          expect(nodeNames.has(p.spec.nodeName ?? ""), `${p.metadata.name} on a kwok node`).toBe(
            true,
          );
          const ofJob = p.metadata.labels?.["batch.kubernetes.io/job-name"] !== undefined;
          expect(p.status.phase, p.metadata.name).toBe(ofJob ? "Succeeded" : "Running");
        }
      }
      timings.ready = Date.now() - t;
    });

    it("runs a CronJob's Job to completion under the namespace's quota and Pod Security", async () => {
      for (const c of objects.filter((o) => o.kind === "CronJob")) {
        const ns = c.metadata.namespace!;
        const job = `${c.metadata.name}-manual`;
        await cluster.kubectlOk([
          "create",
          "job",
          job,
          `--from=cronjob/${c.metadata.name}`,
          "-n",
          ns,
        ]);
        const r = await cluster.kubectl(
          ["wait", "--for=condition=Complete", `job/${job}`, "-n", ns, "--timeout=90s"],
          { timeoutMs: 100_000 },
        );
        expect(r.code, `job ${ns}/${job}: ${r.stderr}\n${await diagnose(ns)}`).toBe(0);
      }
    });

    it("enforces restricted Pod Security on our namespaces: a non-compliant pod is rejected", async () => {
      const ns = objects.find((o) => o.kind === "Namespace")!.metadata.name;
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "not-restricted", namespace: ns },
        spec: {
          containers: [
            {
              name: "c",
              image: "registry.example/app:1.0.0",
              resources: {
                requests: { cpu: "10m", memory: "16Mi" },
                limits: { cpu: "10m", memory: "16Mi" },
              },
              securityContext: { runAsUser: 0 },
            },
          ],
        },
      };
      const r = await cluster.kubectl(["apply", "--server-side", "-f", "-"], {
        input: JSON.stringify(pod),
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
      for (const part of [
        "allowPrivilegeEscalation != false",
        "unrestricted capabilities",
        "runAsNonRoot != true",
        "runAsUser=0",
        "seccompProfile",
      ])
        expect(r.stderr).toContain(part);
      console.log(`PSA rejection: ${r.stderr.trim()}`);
      // The same pod is admitted where nothing is enforced, so the rejection is Pod Security's.
      await cluster.kubectlOk(["create", "namespace", "psa-unlabelled"]);
      await cluster.kubectlOk(["apply", "--server-side", "-f", "-"], {
        input: JSON.stringify({
          ...pod,
          metadata: { name: "not-restricted", namespace: "psa-unlabelled" },
        }),
      });
    });

    it("agrees with the capacity planner: nothing over quota, every pod placed", async () => {
      const report = planCapacity(config);
      expect(report.errors).toEqual([]);
      expect(report.cluster?.unschedulable ?? []).toEqual([]);
      const pending = await cluster.kubectlOk([
        "get",
        "pods",
        "-A",
        "--field-selector=status.phase=Pending",
        "-o",
        "name",
      ]);
      expect(pending.trim()).toBe("");
    });

    async function diagnose(ns: string): Promise<string> {
      const ev = await cluster.kubectl(["get", "events", "-n", ns, "--sort-by=.lastTimestamp"]);
      const pods = await cluster.kubectl(["get", "pods,pvc", "-n", ns, "-o", "wide"]);
      return `${pods.stdout}\n${ev.stdout}\n--- kube-scheduler ---\n${cluster.logTail("kube-scheduler", 10)}`;
    }
  },
);
