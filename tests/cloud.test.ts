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

/** What each cloud's cluster must say for the sample to serve traffic (see "clouds that serve traffic"). */
const TRAFFIC: Record<Cloud, Fields> = {
  kind: {},
  eks: { loadBalancerSources: ["10.0.0.0/22", "10.0.4.0/22"], clusterCidrs: ["10.0.0.0/16"] },
  gke: { clusterCidrs: ["10.4.0.0/14", "10.8.0.0/20"] },
  aks: { clusterCidrs: ["10.244.0.0/16", "10.0.0.0/16"] },
  generic: {},
};

function build(
  cloud: Cloud,
  tier: "dev" | "prod" = "dev",
  extra: { cluster?: Fields; web?: Fields } = {},
) {
  const identity = IDENTITY[cloud];
  const config = parsePlatformConfig({
    tier,
    cluster: { cloud, name: "c1", ...TRAFFIC[cloud], ...extra.cluster },
    namespaces: { shop: {} },
    services: {
      web: {
        kind: "web",
        namespace: "shop",
        image: "ghcr.io/acme/web:1.0.0",
        ports: { http: 8080 },
        resources: requests,
        expose: { type: "LoadBalancer" },
        // The ALB takes its certificate from ACM (cluster.certificateArn), not a Secret.
        ingress: {
          host: "shop.example.com",
          ...(cloud === "eks" ? {} : { tlsSecret: "shop-tls" }),
        },
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
    };
    if (cloud !== "eks") spec.tls = [{ hosts: ["shop.example.com"], secretName: "shop-tls" }];
    if (CLASS[cloud]) spec.ingressClassName = CLASS[cloud];
    expect(ingress.spec).toEqual(spec);
    expect("ingressClassName" in ingress.spec).toBe(CLASS[cloud] !== undefined);
  });

  test("only kind skips awaiting Ingresses (nothing there sets their status)", () => {
    for (const cloud of CLOUDS) {
      const annotations = build(cloud).find("web", "Ingress").metadata.annotations;
      if (cloud === "kind") expect(annotations).toEqual({ "pulumi.com/skipAwait": "true" });
      else expect(annotations?.["pulumi.com/skipAwait"], cloud).toBeUndefined();
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

describe("clouds that serve traffic", () => {
  const web = (cloud: Cloud, cluster: Fields = {}, svc: Fields = {}) =>
    build(cloud, "dev", { cluster, web: { expose: undefined, ...svc } });
  const ingressFrom = (b: ReturnType<typeof build>) =>
    b
      .find("web", "NetworkPolicy")
      .spec.ingress.map((r: Json) => r.from)
      .flat();
  const problems = (cloud: Cloud, cluster: Fields, svc: Fields = {}) => {
    try {
      web(cloud, cluster, svc);
    } catch (e) {
      return (e as { problems?: string[] }).problems ?? [String(e)];
    }
    return [];
  };

  test("GKE: the Google front ends and health checkers stay admitted beside the gateway's namespace", () => {
    const b = web(
      "gke",
      { gateway: { name: "external", namespace: "gateway" }, ingressNamespace: "gateway" },
      { ingress: undefined, route: { hostnames: ["shop.example.com"] } },
    );
    expect(ingressFrom(b)).toEqual([
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gateway" } } },
      { ipBlock: { cidr: "35.191.0.0/16" } },
      { ipBlock: { cidr: "130.211.0.0/22" } },
    ]);
  });

  test("GKE: Envoy-based regional and internal classes add the proxy-only subnet, which they need", () => {
    const route = { ingress: undefined, route: { hostnames: ["shop.internal"] } };
    const gateway = { name: "internal", namespace: "gateway" };
    const b = web(
      "gke",
      { gateway, gatewayClass: "gke-l7-rilb", proxyOnlySubnet: "10.129.0.0/23" },
      route,
    );
    expect(ingressFrom(b)).toEqual([
      { ipBlock: { cidr: "35.191.0.0/16" } },
      { ipBlock: { cidr: "130.211.0.0/22" } },
      { ipBlock: { cidr: "10.129.0.0/23" } },
    ]);
    expect(
      problems("gke", {}, { ingress: { host: "shop.internal", className: "gce-internal" } }),
    ).toEqual([
      "services.web.ingress: class gce-internal proxies from the region's proxy-only subnet; set cluster.proxyOnlySubnet (its CIDR) so the NetworkPolicy admits it",
    ]);
  });

  test("EKS: the ALB targets pod IPs from its subnets, never 0.0.0.0/0; its scheme and certificate are config", () => {
    const b = web("eks");
    expect(ingressFrom(b)).toEqual([
      { ipBlock: { cidr: "10.0.0.0/22" } },
      { ipBlock: { cidr: "10.0.4.0/22" } },
    ]);
    expect(b.find("web", "Ingress").metadata.annotations).toEqual({
      "alb.ingress.kubernetes.io/target-type": "ip",
      "alb.ingress.kubernetes.io/scheme": "internet-facing",
    });
    expect(b.find("web", "Service").spec.type).toBe("ClusterIP");
    const certificateArn =
      "arn:aws:acm:eu-west-1:123456789012:certificate/5f1c3b2a-8d4e-4f6a-9b7c-2e1d0a9f8c7b";
    const https = web("eks", { ingressScheme: "internal", certificateArn });
    expect(https.find("web", "Ingress").metadata.annotations).toEqual({
      "alb.ingress.kubernetes.io/target-type": "ip",
      "alb.ingress.kubernetes.io/scheme": "internal",
      "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
      "alb.ingress.kubernetes.io/certificate-arn": certificateArn,
      "alb.ingress.kubernetes.io/ssl-redirect": "443",
    });
  });

  test("EKS: without the ALB's subnets, or with a TLS secret it would ignore, the config is refused", () => {
    expect(
      problems(
        "eks",
        { loadBalancerSources: undefined },
        { ingress: { host: "a.example.com", tlsSecret: "t" } },
      ),
    ).toEqual([
      'services.web.ingress: class alb is served by the cloud\'s load balancer, which reaches pods from its subnets; list their CIDRs in cluster.loadBalancerSources (e.g. ["10.0.0.0/20", "10.0.16.0/20"]) so the NetworkPolicy admits exactly them',
      "services.web.ingress.tlsSecret: the ALB ignores Ingress TLS secrets; remove it and set cluster.certificateArn (an ACM certificate for a.example.com) for HTTPS",
    ]);
    // An in-cluster controller on EKS is reached from its namespace, as anywhere.
    const nginx = web("eks", {
      loadBalancerSources: undefined,
      ingressClass: "nginx",
      ingressNamespace: "ingress-nginx",
    });
    expect(ingressFrom(nginx)).toEqual([
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } },
    ]);
  });

  test("an identity opens its cloud's token endpoint: 443 outside the cluster, and GKE's metadata server", () => {
    const egressOf = (cloud: Cloud) => build(cloud).find("web", "NetworkPolicy").spec.egress;
    expect(egressOf("eks")).toEqual([
      {
        to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/16"] } }],
        ports: [{ protocol: "TCP", port: 443 }],
      },
    ]);
    expect(egressOf("aks")).toEqual([
      {
        to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.244.0.0/16", "10.0.0.0/16"] } }],
        ports: [{ protocol: "TCP", port: 443 }],
      },
    ]);
    expect(egressOf("gke")).toEqual([
      { to: [{ ipBlock: { cidr: "169.254.169.254/32" } }], ports: [{ protocol: "TCP", port: 80 }] },
      {
        to: [{ ipBlock: { cidr: "169.254.169.252/32" } }],
        ports: [{ protocol: "TCP", port: 988 }],
      },
      {
        to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.4.0.0/14", "10.8.0.0/20"] } }],
        ports: [{ protocol: "TCP", port: 443 }],
      },
    ]);
    expect(problems("gke", { clusterCidrs: undefined })).toEqual([
      "services.web.serviceAccount.identity: the pods must reach gke's token endpoint and APIs on 443; set cluster.clusterCidrs (the pod and service CIDRs) so egress can be opened to everything outside the cluster",
    ]);
  });

  test("AKS: the application routing add-on's NGINX, from its namespace; no load balancer ranges", () => {
    expect(ingressFrom(web("aks"))).toEqual([
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "app-routing-system" } },
      },
    ]);
  });
});
