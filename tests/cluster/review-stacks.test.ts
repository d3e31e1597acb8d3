/**
 * Issue 16: review stacks on a real control plane (scripts/cluster, kwok nodes from dev's node
 * pool) with the real engine, through `npm run review` as the workflows run it:
 *
 *   - dev is up; pull request 1 changes the api: its review stack pr-1 runs the api with what it
 *     depends on (postgres) and the Job that runs before it (migrate), nothing else;
 *   - pr-2 (the whole app) runs beside dev and pr-1: no namespace or host shared, dev's objects
 *     untouched, no cluster-scoped object created, NetworkPolicies that name only their own
 *     stack's namespaces;
 *   - pr-3 would not fit beside dev, pr-1 and pr-2 on dev's node pool: refused with the capacity
 *     table before anything is applied, and no stack is left behind;
 *   - a push to pull request 1 updates exactly its changed Deployment;
 *   - destroying pr-1 removes its namespace, objects and volumes claims, and nothing of dev's;
 *   - the sweep keeps a fresh review stack and destroys one idle past the ttl.
 *
 * Everything runs in a temporary copy of the project, made a git repository so the base of the
 * pull request is a real commit, with a file backend of its own. Skips, loudly, only when the
 * engine or the cluster binaries are not built.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import type { Cluster } from "../../scripts/cluster/cluster";
import { PROJECT_DIR } from "../../scripts/lib/stack-files";
import { explain, TempProject, type RunResult } from "../e2e/helpers";
import { stackConfig, startStackCluster } from "./helpers";

const UP_TIMEOUT = 420_000;
const PRIORITY_CLASS = "review-test-critical";

function built(script: string): boolean {
  return (
    spawnSync("bash", [script, "--check"], { cwd: PROJECT_DIR, encoding: "utf8", timeout: 60_000 })
      .status === 0
  );
}
const skip = !built("scripts/engine/bootstrap.sh") || !built("scripts/cluster/build.sh");
if (skip) {
  const bar = "!".repeat(100);
  console.warn(
    `\n${bar}\n!! SKIPPED tests/cluster/review-stacks: the engine or the cluster binaries are not built; run bash scripts/engine/bootstrap.sh and bash scripts/cluster/build.sh\n${bar}\n`,
  );
}

interface KubeObject {
  kind: string;
  metadata: { name: string; namespace?: string; uid: string; generation?: number };
  spec?: unknown;
  data?: unknown;
}

describe.skipIf(skip)(
  "review stacks beside dev on a real control plane",
  { timeout: 900_000 },
  () => {
    let cluster: Cluster;
    let project: TempProject;
    let base = "";
    let devObjects: Record<string, string> = {};
    const timings: Record<string, number> = {};

    const git = (...args: string[]) => {
      const r = spawnSync(
        "git",
        ["-c", "user.name=review-test", "-c", "user.email=review@test", ...args],
        { cwd: project.dir, encoding: "utf8" },
      );
      if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
      return r.stdout.trim();
    };

    /** Sets the api's image in Pulumi.yaml and commits it (a push to the pull request). */
    const pushApiImage = (image: string) => {
      const file = join(project.dir, "Pulumi.yaml");
      const doc = parseDocument(readFileSync(file, "utf8"));
      doc.setIn(["config", "platform:services", "value", "api", "image"], image);
      writeFileSync(file, doc.toString({ lineWidth: 0 }));
      git("commit", "-qam", `api ${image}`);
    };

    const review = async (label: string, args: string[]): Promise<RunResult> => {
      const t = Date.now();
      const r = await project.tsx("scripts/review.ts", args, UP_TIMEOUT);
      timings[label] = Date.now() - t;
      // What the script said (not pulumi's progress): the decisions, for a failure's log.
      const said = `${r.stdout}\n${r.stderr}`.split("\n").filter((l) => l.startsWith("review: "));
      console.log(`review ${args.join(" ")} -> ${r.code}\n  ${said.join("\n  ")}`);
      return r;
    };
    const reviewOk = async (label: string, args: string[]): Promise<RunResult> => {
      const r = await review(label, args);
      if (r.code !== 0) throw new Error(`review ${args.join(" ")}: ${explain(r)}`);
      return r;
    };

    const json = async <T>(args: string[]): Promise<T> =>
      JSON.parse(await cluster.kubectlOk([...args, "-o", "json"])) as T;
    const names = async (kinds: string, ns: string) =>
      (await cluster.kubectlOk(["get", kinds, "-n", ns, "-o", "name"])).split("\n").filter(Boolean);
    const namespaceExists = async (ns: string) =>
      (await cluster.kubectl(["get", "namespace", ns])).code === 0;

    /** dev's objects by kind/name: their uid, generation and spec or data (what a change moves). */
    async function devSnapshot(): Promise<Record<string, string>> {
      const list = await json<{ items: KubeObject[] }>([
        "get",
        "deployments,statefulsets,services,configmaps,secrets,ingresses,networkpolicies,resourcequotas,limitranges",
        "-n",
        "shop",
      ]);
      const pc = await json<KubeObject>(["get", "priorityclass", PRIORITY_CLASS]);
      return Object.fromEntries(
        [...list.items, pc].map((o) => [
          `${o.kind}/${o.metadata.name}`,
          JSON.stringify([o.metadata.uid, o.metadata.generation, o.spec ?? o.data]),
        ]),
      );
    }

    /** The namespaces a stack's NetworkPolicies name in their selectors. */
    async function policyNamespaces(ns: string): Promise<string[]> {
      const named = new Set<string>();
      JSON.stringify(await json(["get", "networkpolicies", "-n", ns]), (key, value: unknown) => {
        if (key === "kubernetes.io/metadata.name") named.add(value as string);
        return value;
      });
      return [...named].sort();
    }

    async function stackTypes(stack: string): Promise<string[]> {
      const state = await project.exportState(stack);
      return [...new Set((state.deployment.resources ?? []).map((r) => r.type))].sort();
    }

    async function stacks(): Promise<string[]> {
      const r = await project.pulumiOk(["stack", "ls", "--json"]);
      return (JSON.parse(r.stdout) as { name: string }[]).map((s) => s.name).sort();
    }

    beforeAll(async () => {
      let t = Date.now();
      const config = stackConfig("dev");
      cluster = await startStackCluster(config);
      timings.clusterStart = Date.now() - t;
      project = await TempProject.create("review");
      const kubeconfig = cluster.kubeconfig;
      // dev owns a PriorityClass, which review stacks must use and never own.
      await project.initStack("dev", (doc) => {
        const c = doc.config["platform:cluster"] as Record<string, unknown>;
        delete c.renderYamlToDirectory;
        delete c.context;
        c.kubeconfig = kubeconfig;
        c.priorityClasses = { [PRIORITY_CLASS]: { value: 100000 } };
      });
      git("init", "-q", "-b", "main");
      git("add", "-A");
      git("commit", "-qm", "base");
      base = git("rev-parse", "HEAD");
      t = Date.now();
      await project.upOk("dev", { timeoutMs: UP_TIMEOUT, extraEnv: { KUBECONFIG: kubeconfig } });
      timings.devUp = Date.now() - t;
      devObjects = await devSnapshot();
    }, 900_000);

    afterAll(async () => {
      try {
        await cluster?.stop();
      } finally {
        project?.cleanup();
        console.log(`review-stacks timings (ms): ${JSON.stringify(timings)}`);
      }
    }, 60_000);

    it("a pull request's review stack runs what it changes, with what that needs, and nothing else", async () => {
      pushApiImage("node:24.11.0-alpine3.22");
      const comment = join(project.root, "pr-1.md");
      const r = await reviewOk("pr1Up", ["up", "--pr", "1", "--base", base, "--comment", comment]);
      expect(r.stdout).toContain("review: pr-1 from dev: changed: api (with what they depend on)");
      expect((await names("deployments,statefulsets,jobs,cronjobs", "shop-pr1")).sort()).toEqual([
        "deployment.apps/api",
        "job.batch/migrate",
        "statefulset.apps/postgres",
      ]);
      expect(readFileSync(comment, "utf8")).toBe(
        "### Review stack `pr-1`\n\nNo public hosts: the services it runs have no ingress or route.\n\nRuns `api`, `migrate`, `postgres` (changed: api (with what they depend on)). Destroyed when the pull request closes, or by the sweep when idle.\n",
      );
      // The stage's namespaceQuota bounds it.
      const quotas = await json<{ items: { spec: { hard: Record<string, string> } }[] }>([
        "get",
        "resourcequotas",
        "-n",
        "shop-pr1",
      ]);
      expect(quotas.items.map((q) => q.spec.hard["requests.storage"])).toEqual(["10Gi"]);
    });

    it("a second, of the whole app, shares no name or host with dev or pr-1 and owns nothing cluster-wide", async () => {
      const comment = join(project.root, "pr-2.md");
      await reviewOk("pr2Up", ["up", "--pr", "2", "--all", "--comment", comment]);
      expect(readFileSync(comment, "utf8")).toContain("- https://shop-pr2.localtest.me\n");
      const ingresses = await json<{
        items: { metadata: { namespace: string }; spec: { rules: { host: string }[] } }[];
      }>(["get", "ingresses", "-A"]);
      const hosts = ingresses.items.map((i) => `${i.metadata.namespace} ${i.spec.rules[0].host}`);
      expect(hosts.sort()).toEqual(["shop shop.localtest.me", "shop-pr2 shop-pr2.localtest.me"]);
      // NetworkPolicies name their own stack's namespace (and the ingress controller's), never
      // dev's or another review stack's.
      for (const [ns, others] of [
        ["shop-pr1", ["shop", "shop-pr2"]],
        ["shop-pr2", ["shop", "shop-pr1"]],
      ] as const) {
        const named = await policyNamespaces(ns);
        expect(named, ns).toContain(ns);
        for (const other of others) expect(named, ns).not.toContain(other);
      }
      for (const stack of ["pr-1", "pr-2"]) {
        const types = await stackTypes(stack);
        expect(
          types.filter((t) => /PriorityClass|StorageClass/.test(t)),
          stack,
        ).toEqual([]);
      }
      // The api still runs with dev's PriorityClass, which dev owns.
      expect(await devSnapshot()).toEqual(devObjects);
    });

    it("a third that would not fit beside dev, pr-1 and pr-2 is refused before anything is applied", async () => {
      const r = await review("pr3Refused", ["up", "--pr", "3", "--all"]);
      expect(r.code, explain(r)).toBe(1);
      const out = `${r.stdout}\n${r.stderr}`;
      expect(out).toContain("review: reserved for dev: kind 1200m cpu");
      expect(out).toMatch(/Insufficient cpu/);
      expect(await namespaceExists("shop-pr3")).toBe(false);
      expect(await stacks()).toEqual(["dev", "pr-1", "pr-2"]);
      // What does fit previews, and a preview leaves no stack behind either.
      const preview = await reviewOk("pr3Preview", [
        "preview",
        "--pr",
        "3",
        "--services",
        "worker",
      ]);
      expect(preview.stdout).toContain("review: pr-3 from dev: --services worker");
      expect(await stacks()).toEqual(["dev", "pr-1", "pr-2"]);
    });

    it("a push updates exactly the Deployment it changes", async () => {
      pushApiImage("node:24.12.0-alpine3.22");
      const r = await reviewOk("pr1Update", ["up", "--pr", "1", "--base", base]);
      expect(r.stdout).toContain("review: pr-1 from dev: changed: api (with what they depend on)");
      const history = JSON.parse(
        (await project.pulumiOk(["stack", "history", "--json", "--stack", "pr-1"])).stdout,
      ) as { resourceChanges?: Record<string, number> }[];
      const changes = history[0].resourceChanges ?? {};
      expect(Object.keys(changes).filter((op) => op !== "same")).toEqual(["update"]);
      expect(changes.update).toBe(1);
      const api = await json<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(
        ["get", "deployment", "api", "-n", "shop-pr1"],
      );
      expect(api.spec.template.spec.containers[0].image).toBe("node:24.12.0-alpine3.22");
      expect(await devSnapshot()).toEqual(devObjects);
    });

    it("destroy removes everything pr-1 created, its volume claims too, and nothing of dev's", async () => {
      await reviewOk("pr1Destroy", ["destroy", "--pr", "1"]);
      expect(await namespaceExists("shop-pr1")).toBe(false);
      const claims = await json<{ items: { metadata: { namespace: string } }[] }>([
        "get",
        "pvc",
        "-A",
      ]);
      expect(claims.items.map((c) => c.metadata.namespace).filter((n) => n === "shop-pr1")).toEqual(
        [],
      );
      expect(await stacks()).toEqual(["dev", "pr-2"]);
      expect(await devSnapshot()).toEqual(devObjects);
    });

    it("the sweep keeps a fresh review stack and destroys one idle past the ttl", async () => {
      const fresh = await reviewOk("sweepFresh", ["sweep", "--open", "2"]);
      expect(fresh.stdout).toMatch(/review: pr-2: keep: updated .* ago \(ttl 3d\)/);
      const later = new Date(Date.now() + 4 * 86_400_000).toISOString();
      const expired = await reviewOk("sweepExpired", ["sweep", "--open", "2", "--now", later]);
      expect(expired.stdout).toMatch(/review: pr-2: destroy: not updated for 4d/);
      expect(await namespaceExists("shop-pr2")).toBe(false);
      expect(await stacks()).toEqual(["dev"]);
      expect(await devSnapshot()).toEqual(devObjects);
    });
  },
);
