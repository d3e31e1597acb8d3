import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { Workload, type WorkloadArgs } from "./workload";

/** The arguments of a StatefulService: the fields of kind stateful (see `workloadSchemas.stateful`) and the common ones. */
export type StatefulServiceArgs = WorkloadArgs<"stateful">;

/**
 * A stateful service: StatefulSet with one PersistentVolumeClaim per replica (kept when the set
 * is deleted or scaled down), a headless Service for stable pod DNS and a ClusterIP Service for
 * clients. With `protect` (prod) the set and its Services are protected and retained on delete.
 */
export class StatefulService extends Workload<"stateful"> {
  public readonly statefulSet: k8s.apps.v1.StatefulSet;
  public readonly service: k8s.core.v1.Service;
  public readonly headlessService: k8s.core.v1.Service;

  constructor(name: string, args: StatefulServiceArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("platform:workloads:StatefulService", "stateful", name, args, opts);
    this.statefulSet = this.child("StatefulSet", name)!;
    this.service = this.child("Service", name)!;
    this.headlessService = this.child("Service", `${name}-headless`)!;
    this.registerOutputs({ endpoint: this.endpoint, image: this.image });
  }
}
