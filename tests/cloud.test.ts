/**
 * Cloud profiles, seen through what buildWorkload generates for the same services on kind,
 * EKS, GKE, AKS and a generic cluster: LoadBalancer annotations, ingress class, storage class
 * per tier, workload identity, and what Pulumi should not await.
 */
import { describe, expect, test } from "vitest";
import { cloudProfile, NODE_LOCAL_DNS_IP, type Cloud } from "../components/cloud";
import { parsePlatformConfig } from "../platform/config";
import { buildContext } from "../platform/plan";
import { type Manifest } from "../components/context";
import { buildWorkload } from "../components/manifests";
import { EXPOSE_ANNOTATION } from "../components/labels";

// Deep access into generated plain objects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Fields = Record<string, unknown>;

const CLOUDS: readonly Cloud[] = ["kind", "eks", "gke", "aks", "generic"];
const IDENTITY: Partial<Record<Cloud, string>> = {
  eks: "arn:aws:iam::123456789012:role/shop-web",
  gke: "shop-web@my-project.iam.gserviceaccount.com",
  aks: "0f0e0d0c-0000-4000-8000-00000000abcd",
};

const requests = { requests: { cpu: "100m", memory: "128Mi" } };

function build(
  cloud: Cloud,
  tier: "dev" | "prod" = "dev",
  extra: { cluster?: Fields; web?: Fields } = {},
) {
  const identity = IDENTITY[cloud];
  const config = parsePlatformConfig({
    tier,
    cluster: { cloud, name: "c1", ...extra.cluster },
    namespaces: { shop: {} },
    services: {
      web: {
        kind: "web",
        namespace: "shop",
        image: "ghcr.io/acme/web:1.0.0",
        ports: { http: 8080 },
        resources: requests,
        expose: { type: "LoadBalancer" },
        ingress: { host: "shop.example.com", tlsSecret: "shop-tls" },
        serviceAccount: { annotations: { team: "shop" }, ...(identity ? { identity } : {}) },
        ...extra.web,
      },
      public: {
        kind: "web",
        namespace: "shop",
        image: "ghcr.io/acme/web:1.0.0",
        ports: { http: 8080 },
        resources: requests,
        expose: { type: "LoadBalancer", internal: false },
      },
      db: {
        kind: "stateful",
        namespace: "shop",
        image: "postgres:17.6-bookworm",
        ports: { postgres: 5432 },
        resources: requests,
        storage: { size: "10Gi", mountPath: "/var/lib/postgresql/data" },
      },
    },
  });
  const ctx = buildContext(config, "shop");
  const objects = (name: string): Json[] =>
    buildWorkload(ctx, name, config.services[name], { image: "ghcr.io/acme/web:1.0.0" });
  const find = (name: string, kind: string, objectName = name): Json =>
    objects(name).find((o: Manifest) => o.kind === kind && o.metadata.name === objectName);
  return { find, objects };
}

describe("LoadBalancer Services", () => {
  const INTERNAL: Record<Cloud, Record<string, string>> = {
    kind: { "pulumi.com/skipAwait": "true" },
    eks: {
      "service.beta.kubernetes.io/aws-load-balancer-type": "external",
      "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
      "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    },
    gke: { "networking.gke.io/load-balancer-type": "Internal" },
    aks: { "service.beta.kubernetes.io/azure-load-balancer-internal": "true" },
    generic: {},
  };
  const EXTERNAL: Record<Cloud, Record<string, string>> = {
    kind: { "pulumi.com/skipAwait": "true" },
    eks: {
      "service.beta.kubernetes.io/aws-load-balancer-type": "external",
      "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
      "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
    },
    gke: {},
    aks: {},
    generic: {},
  };

  test.each(CLOUDS)("%s: internal by default, external only when asked", (cloud) => {
    const { find } = build(cloud);
    const internal = find("web", "Service");
    expect(internal.spec.type).toBe("LoadBalancer");
    expect(internal.metadata.annotations).toEqual({
      [EXPOSE_ANNOTATION]: "true",
      ...INTERNAL[cloud],
    });
    const external = find("public", "Service");
    expect(external.spec.type).toBe("LoadBalancer");
    expect(external.metadata.annotations).toEqual({
      [EXPOSE_ANNOTATION]: "true",
      ...EXTERNAL[cloud],
    });
  });

  test.each(CLOUDS)("%s: a ClusterIP Service carries no load-balancer annotations", (cloud) => {
    const { find } = build(cloud);
    const service = find("db", "Service");
    expect(service.spec.type).toBe("ClusterIP");
    expect(service.metadata.annotations).toBeUndefined();
  });

  test("the profile's own annotations, for both schemes", () => {
    for (const cloud of CLOUDS) {
      expect(cloudProfile(cloud).loadBalancerAnnotations(true), cloud).toEqual(
        cloud === "kind" ? {} : { ...INTERNAL[cloud] },
      );
      expect(cloudProfile(cloud).loadBalancerAnnotations(false), cloud).toEqual(
        cloud === "kind" ? {} : { ...EXTERNAL[cloud] },
      );
    }
  });
});

describe("Ingress", () => {
  const CLASS: Record<Cloud, string | undefined> = {
    kind: "nginx",
    eks: "alb",
    gke: "gce",
    aks: "webapprouting.kubernetes.azure.com",
    generic: undefined,
  };

  test.each(CLOUDS)("%s: the profile's ingress class, TLS, and the first port", (cloud) => {
    const ingress = build(cloud).find("web", "Ingress");
    const spec: Json = {
      rules: [
        {
          host: "shop.example.com",
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: "web", port: { name: "http" } } },
              },
            ],
          },
        },
      ],
      tls: [{ hosts: ["shop.example.com"], secretName: "shop-tls" }],
    };
    if (CLASS[cloud]) spec.ingressClassName = CLASS[cloud];
    expect(ingress.spec).toEqual(spec);
    expect("ingressClassName" in ingress.spec).toBe(CLASS[cloud] !== undefined);
  });

  test("only kind skips awaiting Ingresses (nothing there sets their status)", () => {
    for (const cloud of CLOUDS) {
      const annotations = build(cloud).find("web", "Ingress").metadata.annotations;
      if (cloud === "kind") expect(annotations).toEqual({ "pulumi.com/skipAwait": "true" });
      else expect(annotations, cloud).toBeUndefined();
    }
  });

  test("cluster.ingressClass, then ingress.className, override the profile", () => {
    expect(
      build("gke", "dev", { cluster: { ingressClass: "nginx-internal" } }).find("web", "Ingress")
        .spec.ingressClassName,
    ).toBe("nginx-internal");
    expect(
      build("generic", "dev", {
        cluster: { ingressClass: "nginx-internal" },
        web: { ingress: { host: "a.example.com", className: "traefik", path: "/shop" } },
      }).find("web", "Ingress").spec,
    ).toEqual({
      ingressClassName: "traefik",
      rules: [
        {
          host: "a.example.com",
          http: {
            paths: [
              {
                path: "/shop",
                pathType: "Prefix",
                backend: { service: { name: "web", port: { name: "http" } } },
              },
            ],
          },
        },
      ],
    });
  });
});

describe("storage class per cloud and tier", () => {
  const DEV: Record<Cloud, string | undefined> = {
    kind: "standard",
    eks: "gp3",
    gke: "standard-rwo",
    aks: "managed-csi",
    generic: undefined,
  };

  test.each(CLOUDS)("%s", (cloud) => {
    for (const tier of ["dev", "prod"] as const) {
      const claim = build(cloud, tier).find("db", "StatefulSet").spec.volumeClaimTemplates[0].spec;
      const expected = tier === "prod" && cloud !== "generic" ? "platform-retain" : DEV[cloud];
      expect(claim.storageClassName, tier).toBe(expected);
      expect("storageClassName" in claim, tier).toBe(expected !== undefined);
      expect(claim.resources).toEqual({ requests: { storage: "10Gi" } });
    }
  });

  test("every cloud but generic has a Retain class to create for prod", () => {
    expect(cloudProfile("kind").retainClass).toEqual({
      name: "platform-retain",
      provisioner: "rancher.io/local-path",
      parameters: {},
      reclaimPolicy: "Retain",
    });
    expect(cloudProfile("eks").retainClass).toEqual({
      name: "platform-retain",
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true" },
      reclaimPolicy: "Retain",
    });
    expect(cloudProfile("gke").retainClass).toEqual({
      name: "platform-retain",
      provisioner: "pd.csi.storage.gke.io",
      parameters: { type: "pd-balanced" },
      reclaimPolicy: "Retain",
    });
    expect(cloudProfile("aks").retainClass).toEqual({
      name: "platform-retain",
      provisioner: "disk.csi.azure.com",
      parameters: { skuName: "StandardSSD_ZRS" },
      reclaimPolicy: "Retain",
    });
    expect(cloudProfile("generic").retainClass).toBeUndefined();
  });

  test("a generic prod cluster uses cluster.storageClass when set", () => {
    expect(
      build("generic", "prod", { cluster: { storageClass: "ceph-retain" } }).find(
        "db",
        "StatefulSet",
      ).spec.volumeClaimTemplates[0].spec.storageClassName,
    ).toBe("ceph-retain");
  });
});

describe("workload identity", () => {
  const EXPECTED: Record<
    Cloud,
    { annotations: Record<string, string>; podLabels: Record<string, string> }
  > = {
    kind: { annotations: {}, podLabels: {} },
    eks: { annotations: { "eks.amazonaws.com/role-arn": IDENTITY.eks! }, podLabels: {} },
    gke: { annotations: { "iam.gke.io/gcp-service-account": IDENTITY.gke! }, podLabels: {} },
    aks: {
      annotations: { "azure.workload.identity/client-id": IDENTITY.aks! },
      podLabels: { "azure.workload.identity/use": "true" },
    },
    generic: { annotations: {}, podLabels: {} },
  };

  test.each(CLOUDS)("%s: ServiceAccount annotations and pod labels", (cloud) => {
    const { find } = build(cloud);
    const sa = find("web", "ServiceAccount");
    expect(sa.metadata.annotations).toEqual({ ...EXPECTED[cloud].annotations, team: "shop" });
    expect(sa.automountServiceAccountToken).toBe(false);

    const deployment = find("web", "Deployment");
    expect(deployment.spec.template.metadata.labels).toEqual({
      "app.kubernetes.io/name": "web",
      "app.kubernetes.io/component": "web",
      "app.kubernetes.io/part-of": "shop",
      "app.kubernetes.io/managed-by": "pulumi",
      ...EXPECTED[cloud].podLabels,
    });
    // The identity label never enters the immutable selector.
    expect(deployment.spec.selector).toEqual({ matchLabels: { "app.kubernetes.io/name": "web" } });
  });

  test("a service without identity or annotations has a bare ServiceAccount", () => {
    for (const cloud of CLOUDS)
      expect(build(cloud).find("db", "ServiceAccount").metadata.annotations, cloud).toBeUndefined();
  });

  test("user annotations win over the profile's on the same key", () => {
    const sa = build("eks", "dev", {
      web: {
        serviceAccount: {
          identity: IDENTITY.eks,
          annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/override" },
        },
      },
    }).find("web", "ServiceAccount");
    expect(sa.metadata.annotations).toEqual({
      "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/override",
    });
  });

  test("kind and generic refuse an identity", () => {
    for (const cloud of ["kind", "generic"] as const) {
      expect(cloudProfile(cloud).workloadIdentity(IDENTITY.eks!)).toEqual({
        error: `workload identity is not supported on ${cloud}; remove serviceAccount.identity or use annotations`,
      });
    }
  });
});

describe("other profile facts", () => {
  test("zone label, gateway class and await skipping", () => {
    expect(CLOUDS.map((c) => cloudProfile(c).zoneLabel)).toEqual(
      Array(5).fill("topology.kubernetes.io/zone"),
    );
    expect(CLOUDS.map((c) => cloudProfile(c).gatewayClass)).toEqual([
      undefined,
      "amazon-vpc-lattice",
      "gke-l7-global-external-managed",
      "approuting-istio",
      undefined,
    ]);
    expect(CLOUDS.map((c) => [...cloudProfile(c).skipAwaitKinds].sort())).toEqual([
      ["Ingress", "Service/LoadBalancer"],
      [],
      [],
      [],
      [],
    ]);
  });

  test("NodeLocal DNS address", () => {
    expect(NODE_LOCAL_DNS_IP).toBe("169.254.20.10");
    expect(cloudProfile("gke").dnsEgress(true).to).toContainEqual({
      ipBlock: { cidr: "169.254.20.10/32" },
    });
    expect(cloudProfile("gke").dnsEgress(false).to).not.toContainEqual({
      ipBlock: { cidr: "169.254.20.10/32" },
    });
  });
});
