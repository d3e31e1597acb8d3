import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { Workload, type WorkloadArgs } from "./workload";

/** The arguments of a Task: the fields of kind job (see `workloadSchemas.job`) and the common ones. */
export type TaskArgs = WorkloadArgs<"job">;

/**
 * A task run once per change: a Job (bounded retries and deadline) that `pulumi up` waits for.
 * A change to it replaces the Job, so it runs again; workloads listed in `before` wait for it.
 */
export class Task extends Workload<"job"> {
  public readonly job: k8s.batch.v1.Job;

  constructor(name: string, args: TaskArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("platform:workloads:Task", "job", name, args, opts);
    this.job = this.child("Job", name)!;
    this.registerOutputs({ image: this.image });
  }
}
