/**
 * Stack configs for fuzzing (fast-check): mostly ordinary, with the hostile shapes that broke
 * things before: reserved and colliding names, names too long or starting with a digit,
 * upper-case hosts, port names the API server rejects, duplicate ports, containers and mounts,
 * bad label keys and values, huge values, HPA bounds past int32, and patches that break the
 * objects' shape. The same arbitrary serves the unit tier's pure gate and can feed a cluster run.
 */
import fc from "fast-check";

type Raw = Record<string, unknown>;

const maybe = <T>(arb: fc.Arbitrary<T>, freq = 3) =>
  fc.option(arb, { nil: undefined, freq }).map((v) => v);

/** Ordinary DNS labels, and the names that collided or were rejected before. */
export const name = fc.oneof(
  { weight: 30, arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "default-deny",
      "allow-dns",
      "db-headless",
      "web-conf",
      "1web",
      "api",
      "db",
      "web",
      `s${"x".repeat(55)}`,
      `c${"y".repeat(51)}`,
    ),
  },
);

export const namespaceName = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom("shop", "data", "edge") },
  { weight: 1, arbitrary: fc.constantFrom("default", "kube-system", "kube-public") },
);

const portName = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom("http", "grpc", "metrics", "pg", "admin-api") },
  { weight: 1, arbitrary: fc.constantFrom("http-metrics-main", "8080", "http--main", "web") },
);
const ports = fc.dictionary(portName, fc.constantFrom(80, 443, 3000, 8080, 8080, 5432), {
  minKeys: 1,
  maxKeys: 3,
});

const host = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom("shop.example.com", "api.example.com") },
  {
    weight: 1,
    arbitrary: fc.constantFrom("Shop.Example.com", "a.*.example.com", "shop..example.com"),
  },
);

const labelKey = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom("team", "app.kubernetes.io/owner", "cost-center") },
  { weight: 1, arbitrary: fc.constantFrom("a/b/c", "/x", "-bad", "x".repeat(64)) },
);
const labelValue = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom("shop", "platform", "") },
  { weight: 1, arbitrary: fc.constantFrom("has space", "-edge", "v".repeat(64)) },
);

const requests = fc.record({
  requests: fc.record({
    cpu: fc.constantFrom("50m", "100m", "250m"),
    memory: fc.constantFrom("64Mi", "128Mi", "256Mi"),
  }),
});

const envValue = fc.oneof(
  { weight: 60, arbitrary: fc.constantFrom("1", "info", "postgres://db:5432") },
  { weight: 1, arbitrary: fc.constant("x".repeat(2_000_000)) },
);

const patch = fc.constantFrom(
  { kind: "Deployment", patch: { spec: { template: "x" } } },
  { kind: "Deployment", patch: { spec: { replicas: "three" } } },
  { kind: "Deployment", patch: { spec: { template: { spec: { containers: 5 } } } } },
  { kind: "Service", patch: { metadata: { labels: { "team/a/b": "x" } } } },
  { kind: "Deployment", patch: { spec: { minReadySeconds: 5 } } },
);

const container = fc.record({
  name: fc.constantFrom("proxy", "init", "web", "api"),
  image: fc.constant("ghcr.io/acme/sidecar:1.0.0"),
  resources: requests,
});

/** One workload of any kind, with the fields its kind requires. */
export const workload = (namespaces: readonly string[]): fc.Arbitrary<Raw> =>
  fc
    .constantFrom("web", "worker", "stateful", "cron", "job")
    .chain((kind) =>
      fc.record(
        {
          kind: fc.constant(kind),
          namespace: fc.constantFrom(...namespaces),
          image: fc.constant("ghcr.io/acme/app:1.0.0"),
          resources: requests,
          ports: ["web", "stateful"].includes(kind) ? ports : maybe(ports),
          ...(["web", "worker"].includes(kind)
            ? {
                autoscale: maybe(
                  fc.record({
                    min: fc.constantFrom(1, 2),
                    max: fc.oneof(
                      { weight: 20, arbitrary: fc.constantFrom(3, 6) },
                      { weight: 1, arbitrary: fc.constant(9007199254740991) },
                    ),
                  }),
                ),
              }
            : {}),
          ...(kind === "web" ? { ingress: maybe(fc.record({ host }), 4) } : {}),
          ...(kind === "stateful"
            ? { storage: fc.constant({ size: "1Gi", mountPath: "/data" }) }
            : {}),
          ...(kind === "cron" ? { schedule: fc.constant("0 3 * * *") } : {}),
          env: maybe(fc.dictionary(fc.constantFrom("MODE", "LEVEL", "URL"), envValue), 2),
          sidecars: maybe(
            fc.oneof(
              {
                weight: 10,
                arbitrary: fc.uniqueArray(container, { maxLength: 2, selector: (c) => c.name }),
              },
              { weight: 1, arbitrary: fc.array(container, { minLength: 2, maxLength: 2 }) },
            ),
            4,
          ),
          writablePaths: maybe(fc.constantFrom(["/tmp"], ["/etc/app"], ["/tmp", "/cache"]), 4),
          volumes: maybe(
            fc.dictionary(
              fc.constantFrom("conf", "conf-x", "x", "w0-tmp"),
              fc.record({
                mountPath: fc.constantFrom("/etc/app", "/etc/extra", "/tmp"),
                configMap: fc.record({
                  data: fc.dictionary(
                    fc.constantFrom("a.conf", "b.conf"),
                    fc.oneof(
                      { weight: 20, arbitrary: fc.constant("k: v") },
                      { weight: 1, arbitrary: fc.constant("y".repeat(1_200_000)) },
                    ),
                    { minKeys: 1, maxKeys: 2 },
                  ),
                }),
              }),
              { maxKeys: 2 },
            ),
            4,
          ),
          // Deployments are what web services and workers generate.
          ...(["web", "worker"].includes(kind)
            ? { patches: maybe(fc.array(patch, { minLength: 1, maxLength: 2 }), 8) }
            : {}),
        },
        {
          requiredKeys: [
            "kind",
            "namespace",
            "image",
            "resources",
            ...(["web", "stateful"].includes(kind) ? ["ports" as const] : []),
            ...(kind === "stateful" ? ["storage" as const] : []),
            ...(kind === "cron" ? ["schedule" as const] : []),
          ] as never,
        },
      ),
    )
    .map((w) => Object.fromEntries(Object.entries(w).filter(([, v]) => v !== undefined)));

/**
 * Pairs of services whose generated objects collide (same kind, namespace and name), which
 * independent names and kinds produce too rarely: a web service named like a stateful
 * service's headless Service, and generated ConfigMaps `<service>-<volume>` that meet.
 */
const collidingPair = (namespace: string): fc.Arbitrary<Record<string, Raw>> => {
  const base = {
    namespace,
    image: "ghcr.io/acme/app:1.0.0",
    resources: { requests: { cpu: "100m", memory: "128Mi" } },
    ports: { http: 8080 },
  };
  const conf = (volume: string) => ({
    [volume]: { mountPath: "/etc/app", configMap: { data: { "a.conf": "k: v" } } },
  });
  return fc.constantFrom<Record<string, Raw>[]>(
    {
      db: { ...base, kind: "stateful", storage: { size: "1Gi", mountPath: "/data" } },
      "db-headless": { ...base, kind: "web" },
    },
    {
      web: { ...base, kind: "web", volumes: conf("conf-x") },
      "web-conf": { ...base, kind: "web", volumes: conf("x") },
    },
  );
};

/** A whole stack config: one to three namespaces and up to four workloads. */
const independent: fc.Arbitrary<Raw> = fc
  .uniqueArray(namespaceName, { minLength: 1, maxLength: 3 })
  .chain((nsNames) =>
    fc.record({
      tier: fc.constantFrom("dev", "staging", "prod"),
      cluster: fc.record(
        {
          cloud: fc.constantFrom("kind", "eks", "gke", "aks", "generic"),
          name: fc.constant("fuzz"),
          // Where an EKS ALB reaches pods from (required there with an Ingress).
          loadBalancerSources: fc.constant(["10.0.0.0/22", "10.0.4.0/22"]),
        },
        { requiredKeys: ["cloud", "name"] },
      ),
      namespaces: fc
        .tuple(
          ...nsNames.map((n) =>
            fc
              .record(
                {
                  labels: maybe(fc.dictionary(labelKey, labelValue, { maxKeys: 2 }), 4),
                  quota: maybe(
                    fc.oneof(
                      fc.constant({ "requests.cpu": "8", "requests.memory": "16Gi", pods: 50 }),
                      fc.constant({ auto: { headroom: 30 } }),
                    ),
                  ),
                },
                { requiredKeys: [] },
              )
              .map((ns) => [
                n,
                Object.fromEntries(Object.entries(ns).filter(([, v]) => v !== undefined)),
              ]),
          ),
        )
        .map((entries) => Object.fromEntries(entries as [string, Raw][])),
      services: fc.dictionary(name, workload(nsNames), { minKeys: 1, maxKeys: 4 }),
    }),
  );

/** Stack configs: mostly independent workloads, sometimes with a colliding pair added. */
export const stackConfig: fc.Arbitrary<Raw> = fc.oneof(
  { weight: 12, arbitrary: independent },
  {
    weight: 1,
    arbitrary: independent.chain((raw) =>
      collidingPair(Object.keys(raw.namespaces as Raw)[0]).map((pair) => ({
        ...raw,
        services: { ...(raw.services as Raw), ...pair },
      })),
    ),
  },
);
