/**
 * A team's shop on Kubernetes, written against the k8s-platform library by package name:
 * a tenant namespace with a quota, a Postgres database and a web API that may call it.
 *
 *   pulumi config set --secret dbPassword <value>
 *   openssl rand -base64 32 | pulumi config set --secret secretChecksumKey   # per stack, once
 *   pulumi up                       # against the current kubeconfig context, or:
 *   pulumi config set renderYamlToDirectory rendered && pulumi up   # manifests only
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { StatefulService, Tenant, WebService } from "k8s-platform";

const config = new pulumi.Config();
const renderTo = config.get("renderYamlToDirectory");
const provider = new k8s.Provider("cluster", renderTo ? { renderYamlToDirectory: renderTo } : {});
const environment = { cloud: "generic", tier: "dev" } as const;

const shop = new Tenant(
  "shop",
  {
    quota: { "requests.cpu": "4", "requests.memory": "8Gi", pods: 20 },
    access: { edit: ["shop-developers"] },
    environment,
  },
  { provider },
);

const db = new StatefulService(
  "postgres",
  {
    namespace: shop,
    image: "postgres:17.6-bookworm",
    ports: { postgres: 5432 },
    securityContext: { runAsUser: 999, fsGroup: 999 },
    resources: { requests: { cpu: "500m", memory: "1Gi" } },
    storage: { size: "10Gi", mountPath: "/var/lib/postgresql/data" },
    env: { PGDATA: "/var/lib/postgresql/data/pgdata" },
    secretEnv: { POSTGRES_PASSWORD: "db-password" },
    secrets: { "db-password": config.requireSecret("dbPassword") },
    // Keys the checksum/secret-env annotation that rolls the pods when the password changes.
    secretChecksumKey: config.requireSecret("secretChecksumKey"),
    writablePaths: ["/tmp", "/var/run/postgresql"],
    environment,
  },
  { provider },
);

const api = new WebService(
  "api",
  {
    namespace: shop,
    image: "nginxinc/nginx-unprivileged:1.29.1-alpine",
    ports: { http: 8080 },
    securityContext: { runAsUser: 101 },
    dependencies: [db],
    resources: { requests: { cpu: "250m", memory: "256Mi" } },
    autoscale: { min: 2, max: 6 },
    probes: { readiness: { http: { path: "/", port: "http" } } },
    environment,
  },
  { provider },
);

/** Where the API answers inside the cluster. */
export const endpoint = api.endpoint;
/** The tenant's namespace. */
export const namespace = shop.namespaceName;
