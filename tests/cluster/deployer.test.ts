/**
 * A tenant's least-privilege deployer on a real API server: what `access.deploy` grants a CI
 * ServiceAccount is enough to apply every object the workload components build in that
 * namespace, and nothing else (no other namespace, nothing cluster-scoped, no Roles, no binding
 * of a role beyond admin, edit and view).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../components/context";
import { resolveEnvironment } from "../../components/environment";
import { buildTenant } from "../../components/tenant";
import { plannedManifests, resolveWorkload } from "../../components/workload";
import { startCluster, type Cluster } from "../../scripts/cluster/cluster";
import { clusterBinariesOrWarn } from "./helpers";

const bins = clusterBinariesOrWarn("tests/cluster/deployer");
const AS = "--as=system:serviceaccount:ci:deployer";
const list = (items: readonly unknown[]) =>
  JSON.stringify({ apiVersion: "v1", kind: "List", items });
const environment = { cloud: "kind", tier: "dev", partOf: "shop" } as const;

/** Objects of a web service and a database wired to it, built by the library's pure path. */
function workloads(): Manifest[] {
  const requests = { requests: { cpu: "100m", memory: "128Mi" } };
  const db = resolveWorkload("stateful", "db", {
    namespace: "shop",
    image: "postgres:17.6-bookworm",
    ports: { postgres: 5432 },
    resources: requests,
    storage: { size: "1Gi", mountPath: "/var/lib/postgresql/data" },
    environment,
  });
  const api = resolveWorkload("web", "api", {
    namespace: "shop",
    image: "nginxinc/nginx-unprivileged:1.29.1-alpine",
    ports: { http: 8080 },
    resources: requests,
    autoscale: { min: 2, max: 3 },
    ingress: { host: "shop.example.com" },
    env: { MODE: "demo" },
    volumes: { conf: { mountPath: "/etc/api", configMap: { data: { "a.conf": "x" } } } },
    dependencies: [{ name: "db", ports: { postgres: 5432 } }],
    environment,
  });
  return [
    ...plannedManifests("db", db.spec, db.context, "postgres:17.6-bookworm"),
    ...plannedManifests("api", api.spec, api.context, "nginxinc/nginx-unprivileged:1.29.1-alpine"),
  ];
}

describe.skipIf(!bins)("a tenant's deployer ServiceAccount", { timeout: 120_000 }, () => {
  let cluster: Cluster;
  const canI = async (verb: string, what: string, ns?: string) => {
    const r = await cluster.kubectl(["auth", "can-i", verb, what, AS, ...(ns ? ["-n", ns] : [])]);
    return r.stdout.trim();
  };

  beforeAll(async () => {
    cluster = await startCluster({
      nodePools: { general: { count: 1, allocatable: { cpu: "4", memory: "8Gi", pods: 50 } } },
      log: (l) => console.log(`[cluster] ${l}`),
    });
    // As an admin: CI's ServiceAccount, and the tenant with its deployer.
    await cluster.kubectlOk(["create", "namespace", "ci"]);
    await cluster.kubectlOk(["create", "serviceaccount", "deployer", "-n", "ci"]);
    const tenant = buildTenant(resolveEnvironment(environment).resolved!, "shop", {
      quota: { "requests.cpu": "8", pods: 40 },
      access: { deploy: ["ci/deployer"], view: ["auditors"] },
    });
    await cluster.kubectlOk(["apply", "--server-side", "-f", "-"], { input: list(tenant) });
  }, 150_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it("applies every object of the workloads in its namespace (server-side apply)", async () => {
    const r = await cluster.kubectl(["apply", "--server-side", AS, "-f", "-"], {
      input: list(workloads()),
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("deployment.apps/api serverside-applied");
    expect(r.stdout).toContain("statefulset.apps/db serverside-applied");
    expect(r.stdout).toContain("networkpolicy.networking.k8s.io/api serverside-applied");
  });

  it("reads what pulumi's await logic watches", async () => {
    for (const what of ["replicasets", "pods", "events", "endpoints", "persistentvolumeclaims"])
      expect(await canI("watch", what, "shop"), what).toBe("yes");
  });

  it("can do nothing outside the namespace, nothing cluster-scoped, and cannot grant more", async () => {
    expect(await canI("create", "deployments", "default")).toBe("no");
    expect(await canI("create", "namespaces")).toBe("no");
    expect(await canI("create", "clusterroles")).toBe("no");
    expect(await canI("create", "priorityclasses")).toBe("no");
    expect(await canI("create", "roles", "shop")).toBe("no");
    expect(await canI("update", "roles", "shop")).toBe("no");
    // It may bind the built-in roles that `access` uses, in its namespace, but not cluster-admin.
    const binding = (role: string) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: `try-${role}`, namespace: "shop" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "devs" }],
    });
    const ok = await cluster.kubectl(["apply", "--server-side", AS, "-f", "-"], {
      input: list([binding("edit")]),
    });
    expect(ok.code, ok.stderr).toBe(0);
    const escalate = await cluster.kubectl(["apply", "--server-side", AS, "-f", "-"], {
      input: list([binding("cluster-admin")]),
    });
    expect(escalate.code).not.toBe(0);
    expect(escalate.stderr).toContain("forbidden");
  });
});
