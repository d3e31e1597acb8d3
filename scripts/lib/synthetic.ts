/**
 * Synthetic applications of any size, for the engine benchmark and the scale tests: `n` web
 * services (nginx, one replica, readiness probe, a dependency on the previous service so
 * NetworkPolicies have rules), 100 to a namespace with an automatic quota, and a node pool
 * with room for every peak pod.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

const PER_NAMESPACE = 100;

export const IMAGE = "nginxinc/nginx-unprivileged:1.29.1-alpine";
/** The image a one-service change moves the first service to. */
export const CHANGED_IMAGE = "nginxinc/nginx-unprivileged:1.29.2-alpine";

type Definitions = Record<string, Record<string, unknown>>;

/** `n` services in namespaces `bench-00`, `bench-01`, ... (raw config, as a user writes it). */
export function syntheticApplication(n: number): {
  namespaces: Definitions;
  services: Definitions;
} {
  const namespaces: Definitions = {};
  const services: Definitions = {};
  const name = (i: number) => `svc-${String(i).padStart(4, "0")}`;
  for (let i = 0; i < n; i++) {
    const ns = `bench-${String(Math.floor(i / PER_NAMESPACE)).padStart(2, "0")}`;
    namespaces[ns] ??= { labels: { team: ns }, quota: "auto" };
    services[name(i)] = {
      kind: "web",
      namespace: ns,
      image: IMAGE,
      securityContext: { runAsUser: 101, runAsGroup: 101 },
      ports: { http: 8080 },
      resources: {
        requests: { cpu: "50m", memory: "64Mi", "ephemeral-storage": "64Mi" },
        limits: { cpu: "100m", memory: "64Mi", "ephemeral-storage": "128Mi" },
      },
      probes: { readiness: { http: { path: "/healthz" } } },
      ...(i % PER_NAMESPACE > 0 ? { dependencies: [name(i - 1)] } : {}),
    };
  }
  return { namespaces, services };
}

/** A kind cluster rendering into `renderDir` with nodes enough for `n` synthetic services. */
export function syntheticCluster(n: number, renderDir: string): Record<string, unknown> {
  return {
    cloud: "kind",
    name: "bench",
    renderYamlToDirectory: renderDir,
    nodePools: {
      general: {
        count: Math.ceil((2 * n) / 100) + 1,
        allocatable: { cpu: "16", memory: "64Gi", pods: 110 },
        overhead: { cpu: "300m", memory: "512Mi", pods: 10 },
      },
    },
  };
}

/**
 * Writes an application as one file per namespace (`<dir>/<namespace>.yaml`, holding the
 * namespace and its services), as `platform:applicationFiles: [<dir>]` reads it. Returns the
 * files written.
 */
export function writeApplicationFiles(
  dir: string,
  app: { namespaces: Definitions; services: Definitions },
): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.keys(app.namespaces).map((ns) => {
    const services = Object.fromEntries(
      Object.entries(app.services).filter(([, s]) => s.namespace === ns),
    );
    const file = join(dir, `${ns}.yaml`);
    writeFileSync(
      file,
      stringify({ namespaces: { [ns]: app.namespaces[ns] }, services }, { lineWidth: 0 }),
    );
    return file;
  });
}
