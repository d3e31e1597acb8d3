/**
 * NetworkPolicies for the graph web -> api -> postgres, worker -> postgres: the exact objects,
 * and what they allow, judged by a small NetworkPolicy evaluator written here (default-deny
 * namespaces, ingress AND egress must both admit a connection).
 */
import { describe, expect, test } from "vitest";
import { parsePlatformConfig } from "../platform/config";
import { buildContext } from "../platform/plan";
import { type Manifest } from "../components/context";
import { buildWorkload } from "../components/manifests";
import { callersOf, tenantNetworkPolicies, workloadNetworkPolicy } from "../components/network";

// Deep access into generated plain objects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Fields = Record<string, unknown>;
type Labels = Record<string, string>;

const requests = { requests: { cpu: "100m", memory: "128Mi" } };
const svc = (kind: string, extra: Fields = {}): Fields => ({
  kind,
  namespace: "shop",
  image: `ghcr.io/acme/${kind}:1.0.0`,
  resources: requests,
  ...(kind === "stateful" ? { storage: { size: "10Gi", mountPath: "/data" } } : {}),
  ...extra,
});

/** web -> api -> postgres, worker -> postgres. */
const graph = (
  extra: { web?: Fields; api?: Fields; postgres?: Fields; worker?: Fields } = {},
): Fields => ({
  web: svc("web", {
    ports: { http: 8080 },
    ingress: { host: "shop.example.com" },
    dependencies: ["api"],
    ...extra.web,
  }),
  api: svc("web", { ports: { http: 3000 }, dependencies: ["postgres"], ...extra.api }),
  postgres: svc("stateful", { ports: { postgres: 5432 }, ...extra.postgres }),
  worker: svc("worker", { dependencies: ["postgres"], ...extra.worker }),
});

function setup(services: Fields, cluster: Fields = {}, namespaces: string[] = ["shop"]) {
  const config = parsePlatformConfig({
    tier: "dev",
    cluster: { cloud: "kind", name: "c1", ...cluster },
    namespaces: Object.fromEntries(namespaces.map((n) => [n, {}])),
    services,
  });
  const ctx = buildContext(config, "shop");
  const policyOf = (name: string) =>
    workloadNetworkPolicy(ctx, name, config.services[name]) as Json;
  /** Every NetworkPolicy of the stack: each namespace's baseline plus each workload's own. */
  const all = (): Json[] => [
    ...namespaces.flatMap((n) => tenantNetworkPolicies(ctx, n)),
    ...Object.entries(config.services).flatMap(([name, s]) =>
      buildWorkload(ctx, name, s, { image: "x" }).filter(
        (m: Manifest) => m.kind === "NetworkPolicy",
      ),
    ),
  ];
  return { config, ctx, policyOf, all };
}

const NS = "kubernetes.io/metadata.name";
const LABELS = (name: string, component: string) => ({
  "app.kubernetes.io/name": name,
  "app.kubernetes.io/component": component,
  "app.kubernetes.io/part-of": "shop",
  "app.kubernetes.io/managed-by": "pulumi",
});
const peer = (ns: string, name: string) => ({
  namespaceSelector: { matchLabels: { [NS]: ns } },
  podSelector: { matchLabels: { "app.kubernetes.io/name": name } },
});
const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: "TCP", port }));

// ---------------------------------------------------------------------------------------------
// A minimal NetworkPolicy evaluator (networking.k8s.io/v1 semantics, matchLabels and IPv4 only).

interface PodEndpoint {
  readonly namespace: string;
  readonly labels: Labels;
  readonly ports?: Record<string, number>;
}
interface IpEndpoint {
  readonly ip: string;
}
type Endpoint = PodEndpoint | IpEndpoint;

const isPod = (e: Endpoint): e is PodEndpoint => "namespace" in e;

function matchesSelector(selector: Json, labels: Labels): boolean {
  if (selector.matchExpressions) throw new Error("evaluator: matchExpressions not supported");
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

function ipToInt(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToInt(base) / size) * size;
  const n = ipToInt(ip);
  return n >= start && n < start + size;
}

/** Whether one `from`/`to` element of a policy in `policyNs` matches the endpoint. */
function peerMatches(p: Json, policyNs: string, e: Endpoint): boolean {
  if (p.ipBlock) {
    if (isPod(e)) return false; // pod IPs are not modelled; the generated policies never rely on them
    return (
      inCidr(e.ip, p.ipBlock.cidr) && !(p.ipBlock.except ?? []).some((x: string) => inCidr(e.ip, x))
    );
  }
  if (!isPod(e)) return false;
  const nsOk = p.namespaceSelector
    ? matchesSelector(p.namespaceSelector, { [NS]: e.namespace })
    : e.namespace === policyNs;
  const podOk = p.podSelector ? matchesSelector(p.podSelector, e.labels) : true;
  return nsOk && podOk;
}

function portMatches(
  ports: Json[] | undefined,
  port: number,
  protocol: string,
  dest: Endpoint,
): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === "number") return p.port === port;
    return isPod(dest) && dest.ports?.[p.port] === port;
  });
}

/** Ingress to `dest` from `src` or egress from `src` to `dest`, judged on the pod the policies select. */
function admits(
  policies: Json[],
  direction: "Ingress" | "Egress",
  subject: Endpoint,
  other: Endpoint,
  port: number,
  protocol: string,
): boolean {
  if (!isPod(subject)) return true; // outside the cluster: no policy applies
  const selecting = policies.filter(
    (p) =>
      p.metadata.namespace === subject.namespace &&
      matchesSelector(p.spec.podSelector, subject.labels) &&
      p.spec.policyTypes.includes(direction),
  );
  if (selecting.length === 0) return true; // not isolated
  const key = direction === "Ingress" ? "ingress" : "egress";
  const peers = direction === "Ingress" ? "from" : "to";
  const dest = direction === "Ingress" ? subject : other;
  return selecting.some((p) =>
    (p.spec[key] ?? []).some(
      (rule: Json) =>
        (rule[peers] === undefined ||
          rule[peers].length === 0 ||
          rule[peers].some((x: Json) => peerMatches(x, p.metadata.namespace, other))) &&
        portMatches(rule.ports, port, protocol, dest),
    ),
  );
}

function allowed(
  policies: Json[],
  src: Endpoint,
  dst: Endpoint,
  port: number,
  protocol = "TCP",
): boolean {
  return (
    admits(policies, "Egress", src, dst, port, protocol) &&
    admits(policies, "Ingress", dst, src, port, protocol)
  );
}

const pod = (name: string, namespace = "shop", ports?: Record<string, number>): PodEndpoint => ({
  namespace,
  labels: { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop" },
  ports,
});
const PODS = {
  web: pod("web", "shop", { http: 8080 }),
  api: pod("api", "shop", { http: 3000 }),
  postgres: pod("postgres", "shop", { postgres: 5432 }),
  worker: pod("worker"),
  /** A pod in the namespace that no config mentions. */
  intruder: pod("intruder"),
  /** A pod of the same name in another namespace. */
  foreignApi: pod("api", "other"),
  ingressController: {
    namespace: "ingress-nginx",
    labels: { "app.kubernetes.io/name": "ingress-nginx" },
  },
  kubeDns: { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
} satisfies Record<string, PodEndpoint>;
const INTERNET: IpEndpoint = { ip: "203.0.113.7" };

// ---------------------------------------------------------------------------------------------

describe("policies for web -> api -> postgres, worker -> postgres", () => {
  const { policyOf, config } = setup(graph());

  test("callersOf lists the callers, sorted", () => {
    expect(callersOf(config.services, "postgres")).toEqual(["api", "worker"]);
    expect(callersOf(config.services, "api")).toEqual(["web"]);
    expect(callersOf(config.services, "web")).toEqual([]);
  });

  test("web: ingress from the ingress controller, egress to api", () => {
    expect(policyOf("web")).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "web", namespace: "shop", labels: LABELS("web", "network-policy") },
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": "web" } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { [NS]: "ingress-nginx" } } }],
            ports: tcp(8080),
          },
        ],
        egress: [{ to: [peer("shop", "api")], ports: tcp(3000) }],
      },
    });
  });

  test("api: ingress from web, egress to postgres", () => {
    expect(policyOf("api").spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "api" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [peer("shop", "web")], ports: tcp(3000) }],
      egress: [{ to: [peer("shop", "postgres")], ports: tcp(5432) }],
    });
  });

  test("postgres: ingress from api and worker only, no egress rules of its own", () => {
    expect(policyOf("postgres").spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "postgres" } },
      policyTypes: ["Ingress"],
      ingress: [
        { from: [peer("shop", "api")], ports: tcp(5432) },
        { from: [peer("shop", "worker")], ports: tcp(5432) },
      ],
    });
  });

  test("worker: egress to postgres only", () => {
    expect(policyOf("worker").spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "worker" } },
      policyTypes: ["Egress"],
      egress: [{ to: [peer("shop", "postgres")], ports: tcp(5432) }],
    });
  });

  test("a workload with no traffic of its own gets no policy (the namespace default-deny applies)", () => {
    const lonely = setup({ lonely: svc("worker") });
    expect(lonely.policyOf("lonely")).toBeUndefined();
  });
});

describe("what the policies allow", () => {
  const { all } = setup(graph());
  const policies = all();

  test("the API reaches Postgres; nothing else does, except the worker that declares it", () => {
    const reaching = Object.entries(PODS)
      .filter(([, src]) => allowed(policies, src, PODS.postgres, 5432))
      .map(([name]) => name);
    expect(reaching).toEqual(["api", "worker"]);
    expect(allowed(policies, INTERNET, PODS.postgres, 5432)).toBe(false);
  });

  test("only on the declared port", () => {
    expect(allowed(policies, PODS.api, PODS.postgres, 5432, "UDP")).toBe(false);
    expect(allowed(policies, PODS.api, PODS.postgres, 22)).toBe(false);
  });

  test("each hop of the graph, and nothing backwards or skipping", () => {
    const PORT = { web: 8080, api: 3000, postgres: 5432 };
    const matrix = (["web", "api", "postgres", "worker"] as const).flatMap((from) =>
      (["web", "api", "postgres"] as const)
        .filter((to) => to !== from)
        .map((to) => `${from}->${to}:${allowed(policies, PODS[from], PODS[to], PORT[to])}`),
    );
    expect(matrix).toEqual([
      "web->api:true",
      "web->postgres:false",
      "api->web:false",
      "api->postgres:true",
      "postgres->web:false",
      "postgres->api:false",
      "worker->web:false",
      "worker->api:false",
      "worker->postgres:true",
    ]);
  });

  test("the ingress controller reaches web only", () => {
    expect(allowed(policies, PODS.ingressController, PODS.web, 8080)).toBe(true);
    expect(allowed(policies, PODS.ingressController, PODS.api, 3000)).toBe(false);
    expect(allowed(policies, INTERNET, PODS.web, 8080)).toBe(false);
  });

  test("every pod may resolve names, and reach nothing else outside", () => {
    for (const name of ["web", "api", "postgres", "worker", "intruder"] as const) {
      expect(allowed(policies, PODS[name], PODS.kubeDns, 53, "UDP"), name).toBe(true);
      expect(allowed(policies, PODS[name], PODS.kubeDns, 53, "TCP"), name).toBe(true);
      expect(allowed(policies, PODS[name], { ip: "8.8.8.8" }, 53, "UDP"), name).toBe(false);
      expect(allowed(policies, PODS[name], INTERNET, 443), name).toBe(false);
    }
  });

  test("the evaluator is not vacuous: no policies allow everything; default-deny alone isolates a pod", () => {
    expect(allowed([], PODS.intruder, PODS.postgres, 5432)).toBe(true);
    const withoutPostgres = policies.filter((p) => p.metadata.name !== "postgres");
    expect(allowed(withoutPostgres, PODS.api, PODS.postgres, 5432)).toBe(false);
    // A pod no workload policy selects is isolated by default-deny alone.
    expect(allowed(policies, INTERNET, PODS.intruder, 8080)).toBe(false);
    const withoutDefaultDeny = policies.filter((p) => p.metadata.name !== "default-deny");
    expect(allowed(withoutDefaultDeny, INTERNET, PODS.intruder, 8080)).toBe(true);
  });

  test("callers in another namespace are matched by namespace and name together", () => {
    const cross = setup(
      {
        ...graph(),
        api: svc("web", {
          namespace: "backend",
          ports: { http: 3000 },
          dependencies: ["postgres"],
        }),
      },
      {},
      ["shop", "backend"],
    );
    const crossPolicies = cross.all();
    const backendApi = pod("api", "backend", { http: 3000 });
    expect(allowed(crossPolicies, backendApi, PODS.postgres, 5432)).toBe(true);
    expect(allowed(crossPolicies, PODS.api, PODS.postgres, 5432)).toBe(false); // same name, wrong namespace
    expect(allowed(crossPolicies, PODS.web, backendApi, 3000)).toBe(true);
  });
});

describe("ingress controller peers", () => {
  const ingressRule = (cloud: string, cluster: Fields = {}, web: Fields = {}) =>
    setup(graph({ web }), { cloud, ...cluster }).policyOf("web").spec.ingress;

  const ALB_SUBNETS = { loadBalancerSources: ["10.0.0.0/22", "10.0.4.0/22"] };
  test.each([
    ["kind", [{ namespaceSelector: { matchLabels: { [NS]: "ingress-nginx" } } }]],
    ["eks", [{ ipBlock: { cidr: "10.0.0.0/22" } }, { ipBlock: { cidr: "10.0.4.0/22" } }]],
    ["gke", [{ ipBlock: { cidr: "35.191.0.0/16" } }, { ipBlock: { cidr: "130.211.0.0/22" } }]],
    ["aks", [{ namespaceSelector: { matchLabels: { [NS]: "app-routing-system" } } }]],
    ["generic", [{ namespaceSelector: {} }]],
  ])("%s", (cloud, from) => {
    expect(ingressRule(cloud, cloud === "eks" ? ALB_SUBNETS : {})).toEqual([
      { from, ports: tcp(8080) },
    ]);
  });

  test("cluster.ingressNamespace replaces an in-cluster controller's peers, never a load balancer's", () => {
    expect(ingressRule("kind", { ingressNamespace: "traefik" })).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { [NS]: "traefik" } } }], ports: tcp(8080) },
    ]);
    // The ALB (a managed class) still reaches the pods from its subnets.
    expect(ingressRule("eks", { ingressNamespace: "traefik", ...ALB_SUBNETS })).toEqual([
      {
        from: [
          { namespaceSelector: { matchLabels: { [NS]: "traefik" } } },
          { ipBlock: { cidr: "10.0.0.0/22" } },
          { ipBlock: { cidr: "10.0.4.0/22" } },
        ],
        ports: tcp(8080),
      },
    ]);
  });

  test("only the routed port is opened when the ingress names one", () => {
    expect(
      ingressRule(
        "kind",
        {},
        { ports: { http: 8080, metrics: 9090 }, ingress: { host: "a.example.com", port: "http" } },
      ),
    ).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { [NS]: "ingress-nginx" } } }],
        ports: tcp(8080),
      },
    ]);
    expect(ingressRule("kind", {}, { ports: { http: 8080, metrics: 9090 } })[0].ports).toEqual(
      tcp(8080, 9090),
    );
  });

  test("a Gateway API route opens the same peers", () => {
    const rules = ingressRule(
      "gke",
      { gateway: { name: "gw", namespace: "infra" } },
      { ingress: undefined, route: { hostnames: ["a.example.com"] } },
    );
    expect(rules).toEqual([
      {
        from: [{ ipBlock: { cidr: "35.191.0.0/16" } }, { ipBlock: { cidr: "130.211.0.0/22" } }],
        ports: tcp(8080),
      },
    ]);
  });

  test("GKE health checkers reach the web pods; other addresses do not", () => {
    const policies = setup(graph(), { cloud: "gke" }).all();
    expect(allowed(policies, { ip: "35.191.4.5" }, PODS.web, 8080)).toBe(true);
    expect(allowed(policies, { ip: "130.211.3.255" }, PODS.web, 8080)).toBe(true);
    expect(allowed(policies, { ip: "130.211.4.0" }, PODS.web, 8080)).toBe(false);
  });
});

describe("expose", () => {
  test("LoadBalancer opens every port to 0.0.0.0/0", () => {
    const { policyOf, all } = setup(
      graph({ api: { expose: { type: "LoadBalancer" }, ports: { http: 3000, grpc: 9000 } } }),
    );
    expect(policyOf("api").spec.ingress).toEqual([
      { from: [peer("shop", "web")], ports: tcp(3000, 9000) },
      { from: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: tcp(3000, 9000) },
    ]);
    expect(allowed(all(), INTERNET, PODS.api, 3000)).toBe(true);
  });

  test("NodePort too; ClusterIP opens nothing", () => {
    expect(
      setup(graph({ postgres: { expose: { type: "NodePort" } } })).policyOf("postgres").spec
        .ingress,
    ).toContainEqual({
      from: [{ ipBlock: { cidr: "0.0.0.0/0" } }],
      ports: tcp(5432),
    });
    expect(
      setup(graph({ postgres: { expose: { type: "ClusterIP" } } })).policyOf("postgres").spec
        .ingress,
    ).toHaveLength(2);
  });
});

describe("egress CIDRs", () => {
  const worker = {
    egress: [
      { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"], ports: [443, 8443] },
      { cidr: "203.0.113.7/32" },
      { cidr: "192.0.2.0/24", ports: [514], protocol: "UDP" },
    ],
  };

  test("become ipBlock rules after the dependencies", () => {
    expect(setup(graph({ worker })).policyOf("worker").spec.egress).toEqual([
      { to: [peer("shop", "postgres")], ports: tcp(5432) },
      { to: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] } }], ports: tcp(443, 8443) },
      { to: [{ ipBlock: { cidr: "203.0.113.7/32" } }] },
      { to: [{ ipBlock: { cidr: "192.0.2.0/24" } }], ports: [{ protocol: "UDP", port: 514 }] },
    ]);
  });

  test("allow exactly those addresses and ports", () => {
    const policies = setup(graph({ worker })).all();
    const w = PODS.worker;
    expect(allowed(policies, w, { ip: "10.2.3.4" }, 443)).toBe(true);
    expect(allowed(policies, w, { ip: "10.2.3.4" }, 80)).toBe(false);
    expect(allowed(policies, w, { ip: "10.1.2.3" }, 443)).toBe(false);
    expect(allowed(policies, w, { ip: "203.0.113.7" }, 22)).toBe(true);
    expect(allowed(policies, w, { ip: "203.0.113.8" }, 22)).toBe(false);
    expect(allowed(policies, w, { ip: "192.0.2.9" }, 514, "UDP")).toBe(true);
    expect(allowed(policies, w, { ip: "192.0.2.9" }, 514, "TCP")).toBe(false);
    expect(allowed(policies, PODS.api, { ip: "10.2.3.4" }, 443)).toBe(false);
  });
});

describe("ingressFrom", () => {
  const api = {
    ports: { http: 3000, metrics: 9090 },
    ingressFrom: [{ namespace: "monitoring", ports: ["metrics"] }, { namespace: "admin" }],
  };

  test("opens the named ports, or all ports, to a namespace", () => {
    expect(setup(graph({ api })).policyOf("api").spec.ingress).toEqual([
      { from: [peer("shop", "web")], ports: tcp(3000, 9090) },
      { from: [{ namespaceSelector: { matchLabels: { [NS]: "monitoring" } } }], ports: tcp(9090) },
      { from: [{ namespaceSelector: { matchLabels: { [NS]: "admin" } } }], ports: tcp(3000, 9090) },
    ]);
  });

  test("a scraper in that namespace reaches the metrics port only", () => {
    const policies = setup(graph({ api })).all();
    const apiPod = pod("api", "shop", { http: 3000, metrics: 9090 });
    const scraper = pod("prometheus", "monitoring");
    expect(allowed(policies, scraper, apiPod, 9090)).toBe(true);
    expect(allowed(policies, scraper, apiPod, 3000)).toBe(false);
    expect(allowed(policies, pod("prometheus", "default"), apiPod, 9090)).toBe(false);
  });
});

describe("DNS egress", () => {
  const dnsRule = (cluster: Fields) =>
    setup(graph(), cluster)
      .all()
      .find((p) => p.metadata.name === "allow-dns").spec.egress;
  const KUBE_DNS = {
    namespaceSelector: { matchLabels: { [NS]: "kube-system" } },
    podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
  };
  const DNS_PORTS = [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ];

  test.each([["kind"], ["eks"], ["gke"], ["aks"], ["generic"]])(
    "%s: kube-dns in kube-system on port 53",
    (cloud) => {
      // (EKS: the sample's web Ingress needs the ALB's subnets.)
      const alb = cloud === "eks" ? { loadBalancerSources: ["10.0.0.0/22"] } : {};
      expect(dnsRule({ cloud, ...alb })).toEqual([{ to: [KUBE_DNS], ports: DNS_PORTS }]);
    },
  );

  test("GKE NodeLocal DNSCache adds 169.254.20.10/32", () => {
    expect(dnsRule({ cloud: "gke", nodeLocalDns: true })).toEqual([
      { to: [KUBE_DNS, { ipBlock: { cidr: "169.254.20.10/32" } }], ports: DNS_PORTS },
    ]);
    const local = { ip: "169.254.20.10" };
    expect(
      allowed(
        setup(graph(), { cloud: "gke", nodeLocalDns: true }).all(),
        PODS.api,
        local,
        53,
        "UDP",
      ),
    ).toBe(true);
    expect(allowed(setup(graph(), { cloud: "gke" }).all(), PODS.api, local, 53, "UDP")).toBe(false);
  });
});
