/**
 * Service cards and exposure changes in a reviewer's diff, from renders built here.
 */
import { describe, expect, test } from "vitest";
import {
  diffRenders,
  formatDiffMarkdown,
  formatDiffText,
  type Obj,
  type Render,
} from "../scripts/lib/diff";
import { exposureChanges, serviceCards, serviceViews } from "../scripts/lib/service-cards";
import { trafficGraph } from "../scripts/lib/traffic-graph";

const labels = (name: string) => ({ "app.kubernetes.io/name": name });
const meta = (name: string, kind = name) => ({ name, namespace: "shop", labels: labels(kind) });

function deployment(name: string, image: string, replicas = 2): Obj {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(name),
    spec: {
      replicas,
      template: {
        spec: {
          containers: [
            {
              name,
              image,
              resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "128Mi" } },
            },
          ],
        },
      },
    },
  };
}
const hpa = (name: string, min: number, max: number): Obj => ({
  apiVersion: "autoscaling/v2",
  kind: "HorizontalPodAutoscaler",
  metadata: meta(name),
  spec: { minReplicas: min, maxReplicas: max },
});
const ingress = (name: string, host: string): Obj => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: meta(name),
  spec: { rules: [{ host }] },
});
const loadBalancer = (name: string): Obj => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: meta(`${name}-lb`, name),
  spec: { type: "LoadBalancer" },
});
const policy = (name: string, callers: string[], external: string[] = []): Obj => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: meta(name),
  spec: {
    ingress: [
      ...callers.map((c) => ({
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } },
            podSelector: { matchLabels: labels(c) },
          },
        ],
        ports: [{ port: 8080, protocol: "TCP" }],
      })),
      ...external.map((cidr) => ({ from: [{ ipBlock: { cidr } }] })),
    ],
  },
});
const render = (objects: Obj[]): Render => ({
  objects: new Map(objects.map((o) => [`${o.kind}/shop/${o.metadata.name}`, o])),
  resources: {},
});

const base = render([
  deployment("api", "ghcr.io/acme/api@sha256:1"),
  policy("api", ["web"]),
  deployment("legacy", "ghcr.io/acme/legacy:1", 1),
]);
const head = render([
  deployment("api", "ghcr.io/acme/api@sha256:2"),
  hpa("api", 2, 6),
  policy("api", ["web", "storefront"], ["10.0.0.0/16"]),
  deployment("storefront", "nginx:1.29"),
  ingress("storefront", "www.shop.example.com"),
  loadBalancer("storefront"),
  policy("storefront", []),
]);

describe("service cards", () => {
  test("a service reads as what it runs, how many, what it asks, where it is public, its traffic", () => {
    const storefront = serviceViews(head).get("shop/storefront")!;
    expect(storefront.fields).toEqual({
      "image storefront": "nginx:1.29",
      "resources storefront": "requests cpu 100m, memory 64Mi; limits memory 128Mi",
      replicas: "2",
    });
    expect(storefront.exposure).toEqual([
      "LoadBalancer Service storefront-lb",
      "public host www.shop.example.com (Ingress)",
    ]);
    expect(serviceViews(head).get("shop/api")!.fields.replicas).toBe("2-6 (autoscaled)");
  });

  test("one card per service added, removed or changed: changes only, for a changed one", () => {
    expect(serviceCards(base, head)).toEqual([
      {
        service: "shop/api",
        change: "changed",
        lines: [
          "image api: ghcr.io/acme/api@sha256:1 → ghcr.io/acme/api@sha256:2",
          "replicas: 2 → 2-6 (autoscaled)",
          "+ ingress from shop/storefront on 8080/TCP",
          "+ ingress from 10.0.0.0/16 on any port",
        ],
      },
      {
        service: "shop/legacy",
        change: "removed",
        lines: [
          "kind: Deployment",
          "image legacy: ghcr.io/acme/legacy:1",
          "replicas: 1",
          "resources legacy: requests cpu 100m, memory 64Mi; limits memory 128Mi",
          "not public",
          "no one may call it",
          "it may call nothing",
        ],
      },
      {
        service: "shop/storefront",
        change: "added",
        lines: [
          "kind: Deployment",
          "image storefront: nginx:1.29",
          "replicas: 2",
          "resources storefront: requests cpu 100m, memory 64Mi; limits memory 128Mi",
          "LoadBalancer Service storefront-lb",
          "public host www.shop.example.com (Ingress)",
          "no one may call it",
          "it may call nothing",
        ],
      },
    ]);
    expect(serviceCards(head, head)).toEqual([]);
  });

  test("exposure the change adds comes first: public hosts, LoadBalancers, policies opened", () => {
    const exposure = exposureChanges(base, head);
    expect(exposure).toEqual([
      "shop/api: NetworkPolicy opened: ingress from 10.0.0.0/16 on any port",
      "shop/storefront: new LoadBalancer Service storefront-lb",
      "shop/storefront: new public host www.shop.example.com (Ingress)",
    ]);
    const opts = {
      stack: "prod",
      base: "main",
      tier: "prod",
      cards: serviceCards(base, head),
      exposure,
    };
    const text = formatDiffText(diffRenders(base, head), opts).split("\n");
    expect(text.slice(0, 5)).toEqual([
      "stack prod vs main: 5 added, 1 removed, 2 changed, 0 replaced",
      "exposure added:",
      "  ! shop/api: NetworkPolicy opened: ingress from 10.0.0.0/16 on any port",
      "  ! shop/storefront: new LoadBalancer Service storefront-lb",
      "  ! shop/storefront: new public host www.shop.example.com (Ingress)",
    ]);
    expect(text).toContain("  + shop/storefront (added)");
    const md = formatDiffMarkdown(diffRenders(base, head), opts);
    expect(md).toContain(
      "> [!IMPORTANT]\n> This change exposes more:\n> - shop/api: NetworkPolicy opened: ingress from 10.0.0.0/16 on any port\n",
    );
    expect(md).toContain("**➕ `shop/storefront`** (added)\n\n- kind: Deployment\n");
    const withGraph = formatDiffMarkdown(diffRenders(base, head), {
      ...opts,
      graph: trafficGraph(base, head)!,
    });
    expect(withGraph).toMatch(/#### Traffic\n\n```mermaid\nflowchart LR\n[^]*```\n\n#### Objects/);
  });
});

describe("the traffic graph", () => {
  test("the touched services and their neighbours; what the change adds and removes stands out", () => {
    expect(trafficGraph(base, head)).toBe(
      [
        "```mermaid",
        "flowchart LR",
        '  n0["shop/api"]',
        '  n1["shop/legacy"]',
        '  n2["shop/storefront"]',
        '  n3[/"10.0.0.0/16"/]',
        '  n4(("internet"))',
        '  n5["shop/web"]',
        '  n5 -->|"8080/TCP"| n0',
        '  n2 ==>|"8080/TCP"| n0',
        '  n3 ==>|"any port"| n0',
        '  n4 ==>|"LoadBalancer Service storefront-lb"| n2',
        '  n4 ==>|"www.shop.example.com"| n2',
        "  classDef added fill:#dafbe1,stroke:#1a7f37,stroke-width:2px",
        "  classDef removed fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4",
        "  classDef changed stroke:#9a6700,stroke-width:2px",
        "  class n0 changed",
        "  class n1 removed",
        "  class n2 added",
        "  linkStyle 1 stroke:#1a7f37,stroke-width:3px",
        "  linkStyle 2 stroke:#1a7f37,stroke-width:3px",
        "  linkStyle 3 stroke:#1a7f37,stroke-width:3px",
        "  linkStyle 4 stroke:#1a7f37,stroke-width:3px",
        "```",
      ].join("\n"),
    );
    // A removed edge is dashed and red.
    const gone = trafficGraph(head, base)!;
    expect(gone).toContain('  n2 -.->|"8080/TCP"| n0');
    expect(gone).toContain("stroke:#cf222e");
    expect(trafficGraph(head, head)).toBeUndefined();
  });

  test("never more than maxNodes nodes: the touched services first, the rest counted", () => {
    const graph = trafficGraph(base, head, 3)!;
    expect(graph.match(/^ {2}n\d+[[(]/gm)).toHaveLength(3);
    expect(graph).toContain('  n2["shop/storefront"]');
    expect(graph.endsWith("_3 more services around the change not drawn (at most 3 nodes)._")).toBe(
      true,
    );
  });
});
