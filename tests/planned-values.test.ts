/**
 * The capacity planner reads the plan: replicas, the HPA range, rollout parameters and container
 * resources as the objects to be registered hold them, patches applied. Own fixtures.
 */
import { describe, expect, test } from "vitest";
import { planCapacity } from "../platform/capacity/capacity";
import { parsePlatformConfig } from "../platform/config";
import { planPlatform } from "../platform/plan";

type Fields = Record<string, unknown>;

/** One namespace with a 1-cpu quota and one web service of 2 × 250m; `web` adds fields. */
function plan(web: Fields = {}, quota: unknown = { "requests.cpu": "1", pods: 10 }) {
  const config = parsePlatformConfig({
    tier: "dev",
    cluster: { cloud: "kind", name: "c" },
    namespaces: { shop: { quota } },
    services: {
      web: {
        kind: "web",
        namespace: "shop",
        image: "ghcr.io/acme/web:1.0.0",
        ports: { http: 8080 },
        replicas: 2,
        resources: { requests: { cpu: "250m", memory: "128Mi" } },
        ...web,
      },
    },
  });
  return planPlatform(config, "shop");
}
const patch = (kind: string, body: Fields) => ({ patches: [{ kind, patch: body }] });
const cpuRow = (p: ReturnType<typeof plan>) =>
  planCapacity(p.config).namespaces[0].quota.find((q) => q.resource === "requests.cpu");
const errorsOf = (p: ReturnType<typeof plan>) =>
  planCapacity(p.config).errors.map((e) => `${e.kind} ${e.resource ?? ""}`);

describe("capacity counts what the patched objects hold", () => {
  test("without patches the service fits", () => {
    expect(cpuRow(plan())).toMatchObject({ steady: "500m", peak: "750m" });
    expect(errorsOf(plan())).toEqual([]);
  });

  test("a patch that raises replicas makes the quota overflow", () => {
    const p = plan(patch("Deployment", { spec: { replicas: 5 } }));
    expect(p.config.services.web.replicas).toBe(5);
    expect(cpuRow(p)).toMatchObject({ steady: "1250m" });
    expect(errorsOf(p)).toEqual(["steady-over-quota requests.cpu"]);
  });

  test("a patch that raises a container's requests is counted", () => {
    const p = plan(
      patch("Deployment", {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: "web",
                  image: "ghcr.io/acme/web:1.0.0",
                  resources: { requests: { cpu: "600m", memory: "128Mi" } },
                },
              ],
            },
          },
        },
      }),
    );
    expect(p.config.services.web.resources.requests.cpu).toBe("600m");
    expect(cpuRow(p)).toMatchObject({ steady: "1200m" });
  });

  test("the rollout surge is the Deployment's (a patched 100% surge doubles the peak)", () => {
    const p = plan(
      patch("Deployment", {
        spec: { strategy: { rollingUpdate: { maxSurge: "100%", maxUnavailable: 0 } } },
      }),
    );
    expect(cpuRow(p)).toMatchObject({ steady: "500m", peak: "1" });
  });

  test("an HPA range raised by a patch sets the max and peak", () => {
    const p = plan({
      replicas: undefined,
      autoscale: { min: 2, max: 3 },
      ...patch("HorizontalPodAutoscaler", { spec: { maxReplicas: 6 } }),
    });
    expect(p.config.services.web.autoscale).toMatchObject({ min: 2, max: 6 });
    expect(cpuRow(p)).toMatchObject({ steady: "500m", max: "1500m" });
  });

  test("an auto quota is sized from the patched objects", () => {
    const sized = (web: Fields) =>
      plan(web, "auto").tenants.shop.find((m) => m.kind === "ResourceQuota")?.spec as {
        hard: Record<string, string>;
      };
    expect(sized({}).hard["requests.cpu"]).toBe("900m"); // peak 750m + 20% headroom
    expect(sized(patch("Deployment", { spec: { replicas: 8 } })).hard["requests.cpu"]).toBe("3");
  });

  test("object counts come from the planned objects (a patched LoadBalancer Service counts)", () => {
    const p = plan(patch("Service", { spec: { type: "LoadBalancer" } }), {
      "requests.cpu": "1",
      "services.loadbalancers": 0,
    });
    const row = (report: ReturnType<typeof planCapacity>) =>
      report.namespaces[0].quota.find((q) => q.resource === "services.loadbalancers");
    expect(row(planCapacity(p.config, p))).toMatchObject({ steady: "1" });
    // Without the plan's objects they are built from the config, which has no LoadBalancer.
    expect(row(planCapacity(p.config))).toMatchObject({ steady: "0" });
  });
});
