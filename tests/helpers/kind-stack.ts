/**
 * What the two kind stacks, dev (a kind cluster) and local (rendered to a directory), both
 * produce: one replica of everything, no autoscaling, Ingresses that are not awaited.
 */
import { expect, test } from "vitest";
import type { StackExpectations } from "./stack-suite";

export const kindStackExpectations: StackExpectations = {
  kinds: {
    ConfigMap: 1,
    CronJob: 1,
    Deployment: 3,
    Ingress: 1,
    Job: 1,
    LimitRange: 1,
    Namespace: 1,
    NetworkPolicy: 8,
    ResourceQuota: 1,
    Secret: 5,
    Service: 4,
    ServiceAccount: 6,
    StatefulSet: 1,
  },
  extra: (_run, objects) => {
    test("runs one replica each, without HPA or PDB, and spreads nothing over zones", () => {
      const deployments = objects().filter((o) => o.kind === "Deployment");
      for (const d of deployments)
        expect((d.spec as { replicas?: number }).replicas, d.metadata.name).toBe(1);
      expect(
        objects().some(
          (o) => o.kind === "HorizontalPodAutoscaler" || o.kind === "PodDisruptionBudget",
        ),
      ).toBe(false);
    });
    test("kind Ingresses are not awaited (nothing on kind sets their status)", () => {
      const ingress = objects().find((o) => o.kind === "Ingress")!;
      expect(ingress.metadata.annotations).toEqual({ "pulumi.com/skipAwait": "true" });
      expect((ingress.spec as { ingressClassName?: string }).ingressClassName).toBe("nginx");
    });
  },
};
