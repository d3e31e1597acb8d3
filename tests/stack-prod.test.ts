import { expect, test } from "vitest";
import { describeStack } from "./helpers/stack-suite";

type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describeStack("prod", {
  kinds: {
    ConfigMap: 1,
    CronJob: 1,
    Deployment: 3,
    HorizontalPodAutoscaler: 2,
    HTTPRoute: 1,
    Job: 1,
    LimitRange: 1,
    Namespace: 1,
    NetworkPolicy: 8,
    PodDisruptionBudget: 3,
    PriorityClass: 2,
    ResourceQuota: 1,
    Secret: 5,
    Service: 4,
    ServiceAccount: 6,
    StatefulSet: 1,
    StorageClass: 1,
  },
  extra: (_run, objects) => {
    const find = (kind: string, name: string) =>
      objects().find((o) => o.kind === kind && o.metadata.name === name)! as Spec;

    test("stateful data sits on a Retain storage class the platform creates", () => {
      expect(find("StorageClass", "platform-retain")).toMatchObject({
        provisioner: "pd.csi.storage.gke.io",
        reclaimPolicy: "Retain",
        volumeBindingMode: "WaitForFirstConsumer",
      });
      const sts = find("StatefulSet", "postgres").spec;
      expect(sts.volumeClaimTemplates[0].spec).toMatchObject({
        storageClassName: "platform-retain",
        resources: { requests: { storage: "100Gi" } },
      });
      expect(sts.persistentVolumeClaimRetentionPolicy).toEqual({
        whenDeleted: "Retain",
        whenScaled: "Retain",
      });
    });

    test("the web tier is routed through the Gateway, reachable from its namespace and Google's front ends", () => {
      expect(find("HTTPRoute", "web").spec).toEqual({
        parentRefs: [{ name: "external", namespace: "gateway" }],
        hostnames: ["shop.example.com"],
        rules: [
          {
            matches: [{ path: { type: "PathPrefix", value: "/" } }],
            backendRefs: [{ name: "web", port: 8080 }],
          },
        ],
      });
      expect(find("NetworkPolicy", "web").spec.ingress).toEqual([
        {
          // The Gateway's class is Google-managed: its front ends and health checkers.
          from: [
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gateway" } } },
            { ipBlock: { cidr: "35.191.0.0/16" } },
            { ipBlock: { cidr: "130.211.0.0/22" } },
          ],
          ports: [{ protocol: "TCP", port: 8080 }],
        },
      ]);
    });

    test("GKE: NodeLocal DNS is allowed and the API binds its GCP service account", () => {
      const dns = find("NetworkPolicy", "allow-dns").spec.egress[0].to;
      expect(dns).toContainEqual({ ipBlock: { cidr: "169.254.20.10/32" } });
      expect(find("ServiceAccount", "api").metadata.annotations).toEqual({
        "iam.gke.io/gcp-service-account": "shop-api@acme-prod.iam.gserviceaccount.com",
      });
    });

    test("autoscaled Deployments carry no spec.replicas; every multi-replica workload has a PDB", () => {
      expect(find("Deployment", "web").spec.replicas).toBeUndefined();
      expect(find("Deployment", "api").spec.replicas).toBeUndefined();
      expect(find("Deployment", "worker").spec.replicas).toBe(3);
      for (const name of ["web", "api", "worker"])
        expect(find("PodDisruptionBudget", name).spec.maxUnavailable).toBe(1);
    });
  },
});
