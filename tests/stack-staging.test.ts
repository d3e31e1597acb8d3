import { expect, test } from "vitest";
import { describeStack } from "./helpers/stack-suite";

type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describeStack("staging", {
  kinds: {
    ConfigMap: 1,
    CronJob: 1,
    Deployment: 3,
    HorizontalPodAutoscaler: 1,
    Ingress: 1,
    Job: 1,
    LimitRange: 1,
    Namespace: 1,
    NetworkPolicy: 8,
    PodDisruptionBudget: 2,
    ResourceQuota: 1,
    Secret: 5,
    Service: 4,
    ServiceAccount: 6,
    StatefulSet: 1,
  },
  extra: (_run, objects) => {
    const find = (kind: string, name: string) =>
      objects().find((o) => o.kind === kind && o.metadata.name === name)! as Spec;

    test("the autoscaled API leaves replicas to its HPA; the web tier runs two with a PDB", () => {
      expect(find("Deployment", "api").spec.replicas).toBeUndefined();
      expect(find("HorizontalPodAutoscaler", "api").spec).toMatchObject({
        minReplicas: 2,
        maxReplicas: 4,
      });
      expect(find("Deployment", "web").spec.replicas).toBe(2);
      expect(find("PodDisruptionBudget", "web").spec.maxUnavailable).toBe(1);
      expect(find("PodDisruptionBudget", "api").spec.maxUnavailable).toBe(1);
    });

    test("pods spread over three zones with DoNotSchedule", () => {
      const spread = find("Deployment", "web").spec.template.spec.topologySpreadConstraints;
      expect(spread).toContainEqual(
        expect.objectContaining({
          topologyKey: "topology.kubernetes.io/zone",
          whenUnsatisfiable: "DoNotSchedule",
        }),
      );
    });

    test("EKS: the ALB (pod targets, HTTPS with ACM) from its subnets, and IRSA with its egress", () => {
      const ingress = find("Ingress", "web");
      expect(ingress.spec.ingressClassName).toBe("alb");
      expect(ingress.spec.tls).toBeUndefined();
      expect(ingress.metadata.annotations).toEqual({
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
        "alb.ingress.kubernetes.io/certificate-arn":
          "arn:aws:acm:eu-west-1:123456789012:certificate/5f1c3b2a-8d4e-4f6a-9b7c-2e1d0a9f8c7b",
        "alb.ingress.kubernetes.io/ssl-redirect": "443",
      });
      expect(find("NetworkPolicy", "web").spec.ingress[0].from).toEqual([
        { ipBlock: { cidr: "10.0.0.0/22" } },
        { ipBlock: { cidr: "10.0.4.0/22" } },
        { ipBlock: { cidr: "10.0.8.0/22" } },
      ]);
      expect(find("NetworkPolicy", "api").spec.egress).toContainEqual({
        to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/16", "172.20.0.0/16"] } }],
        ports: [{ protocol: "TCP", port: 443 }],
      });
      expect(find("ServiceAccount", "api").metadata.annotations).toEqual({
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/shop-api-staging",
      });
      expect(
        find("StatefulSet", "postgres").spec.volumeClaimTemplates[0].spec.storageClassName,
      ).toBe("gp3");
    });
  },
});
