/**
 * Cloud profiles: everything that differs between kind, EKS, GKE, AKS and a generic cluster,
 * in one place. Components ask the profile; they never branch on the cloud themselves.
 */
import type { Cloud, ClusterDefaults, Tier } from "./types";

export type { Cloud };

/** A NetworkPolicy egress rule, as plain data. */
export interface EgressRule {
  readonly to: ReadonlyArray<Record<string, unknown>>;
  readonly ports: ReadonlyArray<{ readonly protocol: "TCP" | "UDP"; readonly port: number }>;
}

/** A dynamically provisioned storage class the platform creates when a tier needs Retain. */
export interface StorageClassSpec {
  readonly name: string;
  readonly provisioner: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly reclaimPolicy: "Retain" | "Delete";
}

export interface CloudProfile {
  readonly cloud: Cloud;
  /** Node label carrying the zone. */
  readonly zoneLabel: string;
  /** Default IngressClass name, or undefined for the cluster's default class. */
  readonly ingressClass: string | undefined;
  /** GatewayClass a platform team would use for Gateways on this cloud (informational). */
  readonly gatewayClass: string | undefined;
  /** Annotations for a LoadBalancer Service. */
  loadBalancerAnnotations(internal: boolean): Record<string, string>;
  /**
   * The storage class for stateful volumes. In prod a Retain class is created by the platform
   * (`retainClass`), so deleting a claim never deletes the disk.
   */
  storageClassName(tier: Tier): string | undefined;
  /** The Retain StorageClass to create for prod, or undefined when the cloud has none to derive. */
  readonly retainClass: StorageClassSpec | undefined;
  /**
   * Where traffic comes from for a service behind an in-cluster Ingress controller or Gateway
   * (a class that is not `managedClass`), when `cluster.ingressNamespace` does not say.
   */
  readonly ingressPeers: ReadonlyArray<Record<string, unknown>>;
  /**
   * Whether an Ingress or Gateway class's data plane is the cloud's load balancer, whose
   * traffic and health checks come from `loadBalancerSources` (not from a namespace).
   */
  managedClass(className: string): boolean;
  /** Managed classes whose Envoy proxies sit in the proxy-only subnet (GKE regional, internal). */
  proxySubnetClass(className: string): boolean;
  /** Where the cloud's load balancers reach pods from; undefined when only the cluster knows (EKS: the ALB's subnets). */
  readonly loadBalancerSources: readonly string[] | undefined;
  /** Annotations an Ingress of `className` needs to serve traffic on this cloud. */
  ingressAnnotations(
    className: string | undefined,
    cluster: ClusterDefaults,
  ): Record<string, string>;
  /**
   * Egress a workload with a cloud identity needs: its token endpoint and the cloud's APIs, on
   * 443 outside the cluster's own CIDRs (NetworkPolicy cannot name hosts), plus the node-local
   * metadata server where the cloud has one.
   */
  identityEgress(clusterCidrs: readonly string[]): EgressRule[];
  /** Egress rules that let pods resolve names. */
  dnsEgress(nodeLocalDns: boolean): EgressRule;
  /** ServiceAccount annotations and pod labels binding a cloud identity, or an error message. */
  workloadIdentity(
    identity: string,
  ):
    | { readonly annotations: Record<string, string>; readonly podLabels: Record<string, string> }
    | { readonly error: string };
  /** Kinds Pulumi should not await because nothing on this cloud sets their status. */
  readonly skipAwaitKinds: ReadonlySet<string>;
}

const ZONE_LABEL = "topology.kubernetes.io/zone";
/** GKE NodeLocal DNSCache listens on this link-local address on every node. */
export const NODE_LOCAL_DNS_IP = "169.254.20.10";

function kubeDns(nodeLocalDns: boolean): EgressRule {
  const to: Record<string, unknown>[] = [
    {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
    },
  ];
  if (nodeLocalDns) to.push({ ipBlock: { cidr: `${NODE_LOCAL_DNS_IP}/32` } });
  return {
    to,
    ports: [
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ],
  };
}

const RETAIN_CLASS_NAME = "platform-retain";

function retain(provisioner: string, parameters: Record<string, string> = {}): StorageClassSpec {
  return { name: RETAIN_CLASS_NAME, provisioner, parameters, reclaimPolicy: "Retain" };
}

/** HTTPS to everything outside the cluster: where token endpoints and cloud APIs live. */
function httpsOutside(clusterCidrs: readonly string[]): EgressRule {
  return {
    to: [
      { ipBlock: { cidr: "0.0.0.0/0", except: [...clusterCidrs].filter((c) => c.includes(".")) } },
    ],
    ports: [{ protocol: "TCP", port: 443 }],
  };
}

const none = () => false;
const noAnnotations = (): Record<string, string> => ({});
/** Any namespace: an in-cluster controller whose namespace is not known. */
const anyNamespace = [{ namespaceSelector: {} }];

function noIdentity(cloud: Cloud) {
  return (): { error: string } => ({
    error: `workload identity is not supported on ${cloud}; remove serviceAccount.identity or use annotations`,
  });
}

const profiles: Record<Cloud, CloudProfile> = {
  kind: {
    cloud: "kind",
    zoneLabel: ZONE_LABEL,
    ingressClass: "nginx",
    gatewayClass: undefined,
    ingressPeers: [
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } },
    ],
    managedClass: none,
    proxySubnetClass: none,
    loadBalancerSources: undefined,
    ingressAnnotations: noAnnotations,
    identityEgress: () => [],
    loadBalancerAnnotations: () => ({}),
    storageClassName: (tier) => (tier === "prod" ? RETAIN_CLASS_NAME : "standard"),
    retainClass: retain("rancher.io/local-path"),
    dnsEgress: kubeDns,
    workloadIdentity: noIdentity("kind"),
    // Nothing on kind gives Ingresses or LoadBalancer Services an address.
    skipAwaitKinds: new Set(["Ingress", "Service/LoadBalancer"]),
  },
  eks: {
    cloud: "eks",
    zoneLabel: ZONE_LABEL,
    ingressClass: "alb",
    gatewayClass: "amazon-vpc-lattice",
    // An in-cluster controller (not the ALB): its namespace, from cluster.ingressNamespace.
    ingressPeers: anyNamespace,
    // The AWS Load Balancer Controller's ALBs reach pod IPs (target type ip) from their subnets,
    // which only the cluster's config knows: cluster.loadBalancerSources.
    managedClass: (c) => c === "alb",
    proxySubnetClass: none,
    loadBalancerSources: undefined,
    ingressAnnotations: (className, cluster) =>
      className !== "alb"
        ? {}
        : {
            // Pod IPs as targets: the Service stays ClusterIP (instance targets need NodePort).
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/scheme": cluster.ingressScheme ?? "internet-facing",
            // HTTPS with an ACM certificate; the ALB ignores Ingress TLS secrets.
            ...(cluster.certificateArn
              ? {
                  "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
                  "alb.ingress.kubernetes.io/certificate-arn": cluster.certificateArn,
                  "alb.ingress.kubernetes.io/ssl-redirect": "443",
                }
              : {}),
          },
    identityEgress: (cidrs) => [httpsOutside(cidrs)],
    loadBalancerAnnotations: (internal) => ({
      "service.beta.kubernetes.io/aws-load-balancer-type": "external",
      "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
      "service.beta.kubernetes.io/aws-load-balancer-scheme": internal
        ? "internal"
        : "internet-facing",
    }),
    storageClassName: (tier) => (tier === "prod" ? RETAIN_CLASS_NAME : "gp3"),
    retainClass: retain("ebs.csi.aws.com", { type: "gp3", encrypted: "true" }),
    dnsEgress: kubeDns,
    workloadIdentity: (identity) =>
      /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(identity)
        ? { annotations: { "eks.amazonaws.com/role-arn": identity }, podLabels: {} }
        : {
            error: `"${identity}" is not an IAM role ARN (e.g. arn:aws:iam::123456789012:role/shop-api)`,
          },
    skipAwaitKinds: new Set(),
  },
  gke: {
    cloud: "gke",
    zoneLabel: ZONE_LABEL,
    ingressClass: "gce",
    gatewayClass: "gke-l7-global-external-managed",
    ingressPeers: anyNamespace,
    // The GCE Ingress classes and the GKE Gateway classes are Google load balancers.
    managedClass: (c) => c === "gce" || c === "gce-internal" || c.startsWith("gke-l7-"),
    // Envoy-based regional and internal ones proxy from the region's proxy-only subnet.
    proxySubnetClass: (c) =>
      c === "gce-internal" ||
      /^gke-l7-(rilb|regional-external-managed|cross-regional-internal-managed)/.test(c),
    // Google front ends and health checkers.
    loadBalancerSources: ["35.191.0.0/16", "130.211.0.0/22"],
    ingressAnnotations: noAnnotations,
    // The GKE metadata server (Workload Identity tokens): 169.254.169.254:80, and
    // 169.254.169.252:988 on GKE Dataplane V2; then Google APIs on 443.
    identityEgress: (cidrs) => [
      { to: [{ ipBlock: { cidr: "169.254.169.254/32" } }], ports: [{ protocol: "TCP", port: 80 }] },
      {
        to: [{ ipBlock: { cidr: "169.254.169.252/32" } }],
        ports: [{ protocol: "TCP", port: 988 }],
      },
      httpsOutside(cidrs),
    ],
    loadBalancerAnnotations: (internal): Record<string, string> =>
      internal ? { "networking.gke.io/load-balancer-type": "Internal" } : {},
    storageClassName: (tier) => (tier === "prod" ? RETAIN_CLASS_NAME : "standard-rwo"),
    retainClass: retain("pd.csi.storage.gke.io", { type: "pd-balanced" }),
    dnsEgress: kubeDns,
    workloadIdentity: (identity) =>
      /^[a-z][-a-z0-9]{4,28}[a-z0-9]@[a-z][-a-z0-9]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$/.test(
        identity,
      )
        ? { annotations: { "iam.gke.io/gcp-service-account": identity }, podLabels: {} }
        : {
            error: `"${identity}" is not a GCP service account e-mail (e.g. shop-api@my-project.iam.gserviceaccount.com)`,
          },
    skipAwaitKinds: new Set(),
  },
  aks: {
    cloud: "aks",
    zoneLabel: ZONE_LABEL,
    ingressClass: "webapprouting.kubernetes.azure.com",
    gatewayClass: "approuting-istio",
    ingressPeers: [
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "app-routing-system" } },
      },
    ],
    // The application routing add-on is an in-cluster NGINX (its namespace above).
    managedClass: none,
    proxySubnetClass: none,
    loadBalancerSources: undefined,
    ingressAnnotations: noAnnotations,
    // Microsoft Entra ID (login.microsoftonline.com) and Azure APIs.
    identityEgress: (cidrs) => [httpsOutside(cidrs)],
    loadBalancerAnnotations: (internal): Record<string, string> =>
      internal ? { "service.beta.kubernetes.io/azure-load-balancer-internal": "true" } : {},
    storageClassName: (tier) => (tier === "prod" ? RETAIN_CLASS_NAME : "managed-csi"),
    retainClass: retain("disk.csi.azure.com", { skuName: "StandardSSD_ZRS" }),
    dnsEgress: kubeDns,
    workloadIdentity: (identity) =>
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(identity)
        ? {
            annotations: { "azure.workload.identity/client-id": identity },
            podLabels: { "azure.workload.identity/use": "true" },
          }
        : {
            error: `"${identity}" is not an Azure client id (a UUID such as 00000000-0000-0000-0000-000000000000)`,
          },
    skipAwaitKinds: new Set(),
  },
  generic: {
    cloud: "generic",
    zoneLabel: ZONE_LABEL,
    ingressClass: undefined,
    gatewayClass: undefined,
    // Unknown controller: allow from any namespace in the cluster; set cluster.ingressNamespace to narrow.
    ingressPeers: anyNamespace,
    managedClass: none,
    proxySubnetClass: none,
    loadBalancerSources: undefined,
    ingressAnnotations: noAnnotations,
    identityEgress: () => [],
    loadBalancerAnnotations: () => ({}),
    // Without a known provisioner the cluster's default class is used; set cluster.storageClass
    // to a Retain class for prod.
    storageClassName: () => undefined,
    retainClass: undefined,
    dnsEgress: kubeDns,
    workloadIdentity: noIdentity("generic"),
    skipAwaitKinds: new Set(),
  },
};

export function cloudProfile(cloud: Cloud): CloudProfile {
  return profiles[cloud];
}
