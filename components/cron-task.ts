import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { Workload, type WorkloadArgs } from "./workload";

/** The arguments of a CronTask: the fields of kind cron (see `workloadSchemas.cron`) and the common ones. */
export type CronTaskArgs = WorkloadArgs<"cron">;

/** A scheduled task: a CronJob (Forbid overlap, a starting deadline, bounded retries and history). */
export class CronTask extends Workload<"cron"> {
  public readonly cronJob: k8s.batch.v1.CronJob;

  constructor(name: string, args: CronTaskArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("platform:workloads:CronTask", "cron", name, args, opts);
    this.cronJob = this.child("CronJob", name)!;
    this.registerOutputs({ image: this.image });
  }
}
