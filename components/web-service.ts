import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { Workload, type WorkloadArgs } from "./workload";

/** The arguments of a WebService: the fields of kind web (see `workloadSchemas.web`) and the common ones. */
export type WebServiceArgs = WorkloadArgs<"web">;

/**
 * A web service: Deployment, Service, ServiceAccount, optional HorizontalPodAutoscaler,
 * PodDisruptionBudget (whenever more than one replica can run), Ingress or Gateway API HTTPRoute,
 * and the NetworkPolicy its dependencies and callers imply.
 */
export class WebService extends Workload<"web"> {
  public readonly deployment: k8s.apps.v1.Deployment;
  public readonly service: k8s.core.v1.Service;
  public readonly autoscaler: k8s.autoscaling.v2.HorizontalPodAutoscaler | undefined;
  public readonly disruptionBudget: k8s.policy.v1.PodDisruptionBudget | undefined;
  public readonly ingress: k8s.networking.v1.Ingress | undefined;
  /** The Gateway API HTTPRoute, with `route`. */
  public readonly route: k8s.apiextensions.CustomResource | undefined;

  constructor(name: string, args: WebServiceArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("platform:workloads:WebService", "web", name, args, opts);
    this.deployment = this.child("Deployment", name)!;
    this.service = this.child("Service", name)!;
    this.autoscaler = this.child("HorizontalPodAutoscaler", name);
    this.disruptionBudget = this.child("PodDisruptionBudget", name);
    this.ingress = this.child("Ingress", name);
    this.route = this.child("HTTPRoute", name);
    this.registerOutputs({ endpoint: this.endpoint, image: this.image });
  }
}
