import { describe, expect, test } from "vitest";
import { registered } from "./helpers/mocks";
import * as p from "../platform";
import { waitForRegistrations } from "../scripts/lib/mock-run";

const raw = (quota: unknown, replicas = 4) => ({
  tier: "dev",
  cluster: { cloud: "kind", name: "k" },
  namespaces: { shop: { quota } },
  services: {
    api: {
      kind: "web",
      namespace: "shop",
      image: "ghcr.io/acme/api:1.0",
      ports: { http: 8080 },
      resources: { requests: { cpu: "500m", memory: "256Mi" } },
      replicas,
    },
  },
});

describe("the Platform checks capacity before registering anything", () => {
  test("steady use over quota throws the table with fixes, and nothing is registered", async () => {
    registered.length = 0;
    const config = p.parsePlatformConfig(raw({ "requests.cpu": "1500m" }));
    expect(() => new p.Platform("dev", { config, project: "shop" })).toThrowError(p.CapacityError);
    expect(() => new p.Platform("dev", { config, project: "shop" })).toThrowError(
      [
        "Capacity check failed (1 error); nothing was created:",
        "",
        "  namespace  resource      quota  steady   peak  over by  problem",
        "  shop       requests.cpu  1500m       2  2500m     500m  steady use over quota",
        "",
        "  Fixes:",
        "  - raise requests.cpu in namespace shop to 3, or lower api replicas to 2",
      ].join("\n"),
    );
    await waitForRegistrations();
    expect(registered).toEqual([]);
  });

  test("quota: auto sizes the ResourceQuota from the peak footprint plus headroom", async () => {
    registered.length = 0;
    const config = p.parsePlatformConfig(raw({ auto: { headroom: 25 } }));
    const platform = new p.Platform("dev2", { config, project: "shop" });
    await waitForRegistrations();
    const quota = registered.find((r) => r.type === "kubernetes:core/v1:ResourceQuota")!;
    // 4 replicas + 1 surge pod (25% of 4) = 5 pods: 2500m and 1280Mi, plus 25% headroom.
    expect(quota.inputs.spec.hard).toEqual({
      "limits.cpu": "4",
      "limits.memory": "1600Mi",
      pods: "7",
      "requests.cpu": "4",
      "requests.memory": "1600Mi",
    });
    expect(platform.capacity.errors).toEqual([]);
    expect(platform.capacityReport.markdown).toContain("shop");
  });

  test("quota: auto in config is accepted in both spellings; other strings are not", () => {
    expect(p.parsePlatformConfig(raw("auto")).namespaces.shop.quota).toBe("auto");
    expect(() => p.parsePlatformConfig(raw("automatic"))).toThrowError(
      'namespaces.shop.quota: string "automatic" is not valid here',
    );
  });
});
