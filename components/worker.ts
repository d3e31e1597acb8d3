import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { Workload, type WorkloadArgs } from "./workload";

/** The arguments of a Worker: the fields of kind worker (see `workloadSchemas.worker`) and the common ones. */
export type WorkerArgs = WorkloadArgs<"worker">;

/** A background worker: a Deployment with no Service (unless it declares ports), optional HPA and PDB. */
export class Worker extends Workload<"worker"> {
  public readonly deployment: k8s.apps.v1.Deployment;
  public readonly autoscaler: k8s.autoscaling.v2.HorizontalPodAutoscaler | undefined;
  public readonly disruptionBudget: k8s.policy.v1.PodDisruptionBudget | undefined;

  constructor(name: string, args: WorkerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("platform:workloads:Worker", "worker", name, args, opts);
    this.deployment = this.child("Deployment", name)!;
    this.autoscaler = this.child("HorizontalPodAutoscaler", name);
    this.disruptionBudget = this.child("PodDisruptionBudget", name);
    this.registerOutputs({ image: this.image });
  }
}
