/**
 * The offline cost estimate: prices in the config, the nodes the peak placement needs, volumes
 * and load balancers, shared among namespaces and workloads; and the change a pull request makes.
 */
import { describe, expect, it } from "vitest";
import { planCapacity } from "../platform/capacity/capacity";
import {
  estimateCost,
  formatMoney,
  HOURS_PER_MONTH,
  nodeHourPrice,
} from "../platform/capacity/cost";
import {
  capacityDelta,
  capacityFigures,
  formatCapacityDeltaText,
} from "../platform/capacity/figures";
import { formatCapacityMarkdown } from "../platform/capacity/report";
import { ConfigError, parsePlatformConfig } from "../platform/config";

const workload = (name: string, cpu: string, memory: string, extra: object = {}) => ({
  kind: "worker",
  namespace: "shop",
  image: `ghcr.io/acme/${name}:1`,
  resources: { requests: { cpu, memory } },
  ...extra,
});

function config(services: Record<string, unknown>, prices?: object, poolPrice?: object) {
  return parsePlatformConfig({
    tier: "staging",
    cluster: {
      cloud: "eks",
      name: "test",
      nodePools: {
        general: {
          count: 3,
          allocatable: { cpu: "4", memory: "16Gi", pods: 110 },
          ...(poolPrice ? { price: poolPrice } : {}),
        },
      },
    },
    namespaces: { shop: {} },
    services,
    ...(prices ? { capacity: { prices } } : {}),
  });
}

describe("estimateCost", () => {
  it("a node costs its per-node price, or per vCPU and GiB of its allocatable resources", () => {
    expect(nodeHourPrice({ perNodeHour: 0.2 }, 4, 16)).toBe(0.2);
    expect(nodeHourPrice({ perVcpuHour: 0.03, perGiBHour: 0.004 }, 4, 16)).toBeCloseTo(0.184);
    expect(nodeHourPrice(undefined, 4, 16)).toBeUndefined();
  });

  it("nodes shared by peak requests; volumes and load balancers to their workload", () => {
    const cost = estimateCost({
      currency: "EUR",
      pools: [{ pool: "general", nodes: 2, price: { perNodeHour: 0.1 }, vcpus: 4, memoryGiB: 16 }],
      workloads: [
        { namespace: "shop", name: "api", cpu: 3, memoryGiB: 6, loadBalancers: 1 },
        {
          namespace: "data",
          name: "db",
          cpu: 1,
          memoryGiB: 2,
          storage: { gib: 100, className: "gp3" },
          loadBalancers: 0,
        },
      ],
      storagePrices: { gp3: 0.08 },
      loadBalancerPrice: 18,
    })!;
    // 2 nodes × 0.10 an hour × 730.5 hours = 146.10; 100 GiB × 0.08 = 8; one LB = 18.
    expect(HOURS_PER_MONTH).toBe(730.5);
    expect(cost.nodes).toBeCloseTo(146.1, 9);
    expect(cost.volumes).toBeCloseTo(8, 9);
    expect(cost.loadBalancers).toBe(18);
    expect(cost.total).toBeCloseTo(172.1, 9);
    // api: 3 of 4 cores and 6 of 8 GiB: three quarters of the nodes (109.575) and its LB.
    expect(cost.byWorkload["shop/api"]).toBeCloseTo(127.575, 9);
    expect(cost.byWorkload["data/db"]).toBeCloseTo(44.525, 9);
    expect(cost.byNamespace).toEqual({
      shop: cost.byWorkload["shop/api"],
      data: cost.byWorkload["data/db"],
    });
    expect(cost.unpriced).toEqual([]);
    expect(formatMoney(cost.total, cost.currency)).toBe("172.10 EUR");
  });

  it("what has no price is named and left out; no price at all: no estimate", () => {
    const cost = estimateCost({
      currency: "USD",
      pools: [{ pool: "spot", nodes: 1, vcpus: 2, memoryGiB: 8 }],
      workloads: [
        {
          namespace: "shop",
          name: "db",
          cpu: 1,
          memoryGiB: 1,
          storage: { gib: 10, className: undefined },
          loadBalancers: 1,
        },
      ],
      storagePrices: {},
      loadBalancerPrice: 20,
    })!;
    expect(cost.total).toBe(20);
    expect(cost.unpriced).toEqual([
      "node pool spot (1 node): no price",
      "shop/db: 10GiB of storage class default: no price",
    ]);
    expect(
      estimateCost({
        currency: "USD",
        pools: [{ pool: "general", nodes: 3, vcpus: 4, memoryGiB: 16 }],
        workloads: [],
        storagePrices: {},
      }),
    ).toBeUndefined();
  });
});

describe("cost in the capacity plan", () => {
  const prices = { currency: "USD", loadBalancer: 18 };
  const poolPrice = { perNodeHour: 0.2 };

  it("the report prices the nodes the peak needs, packed as an autoscaler would, and says so in capacity.md", () => {
    const report = planCapacity(
      config(
        {
          api: workload("api", "500m", "1Gi", {
            kind: "web",
            ports: { http: 8080 },
            replicas: 2,
            expose: { type: "LoadBalancer" },
          }),
        },
        prices,
        poolPrice,
      ),
    );
    // Spread scoring puts the three peak pods (two replicas, one surge) on three nodes; packed,
    // they need one: 146.10 + 18.
    expect(report.cluster!.pools[0].nodesUsed).toBe(3);
    expect(report.cost!.nodes).toBeCloseTo(0.2 * HOURS_PER_MONTH, 9);
    expect(report.cost!.total).toBeCloseTo(164.1, 9);
    const md = formatCapacityMarkdown(report);
    expect(md).toContain(
      `#### Cost: ${report.cost!.total.toFixed(2)} USD a month (offline estimate)`,
    );
    expect(md).toMatch(/\| shop \| api \| web \|.*\| \d+\.\d\d USD \|$/m);
  });

  it("without prices, capacity.md says how to get an estimate", () => {
    const report = planCapacity(config({ api: workload("api", "500m", "1Gi") }));
    expect(report.cost).toBeUndefined();
    expect(formatCapacityMarkdown(report)).toContain(
      "_Cost: no prices configured. Give the node pools a `price`",
    );
  });

  it("a pull request that adds a workload shows what it adds to the bill", () => {
    const before = planCapacity(config({ api: workload("api", "1", "4Gi") }, prices, poolPrice));
    const after = planCapacity(
      config(
        {
          api: workload("api", "1", "4Gi"),
          reports: workload("reports", "3", "8Gi", { replicas: 2 }),
        },
        prices,
        poolPrice,
      ),
    );
    const lines = formatCapacityDeltaText(
      capacityDelta(capacityFigures(before), capacityFigures(after)),
    );
    const total = (r: typeof before) => r.cost!.total.toFixed(2);
    expect(lines).toContain(
      `  cost a month: ${total(before)} USD → ${total(after)} USD (+${(after.cost!.total - before.cost!.total).toFixed(2)})`,
    );
  });

  it("a pool price needs perNodeHour or both per-resource prices; a currency is three letters", () => {
    const problems = (withPrices?: object, withPoolPrice?: object) => {
      try {
        config({ api: workload("api", "1", "1Gi") }, withPrices, withPoolPrice);
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    };
    expect(problems(undefined, { perVcpuHour: 0.03 })).toEqual([
      "cluster.nodePools.general.price: give perNodeHour, or both perVcpuHour and perGiBHour",
    ]);
    expect(problems({ currency: "dollars" })).toEqual([
      'capacity.prices.currency: "dollars" must be a three-letter currency code such as USD or EUR',
    ]);
  });
});
