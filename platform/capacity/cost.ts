/**
 * What a stack costs a month, offline, from prices in its config: the nodes its peak needs, as a
 * cluster autoscaler would pack the peak pods (a node pool's `price`: per node-hour, or per
 * vCPU-hour and GiB-hour of its allocatable resources), its volumes (`capacity.prices.storage`: per GiB-month by storage class) and its
 * LoadBalancer Services (`capacity.prices.loadBalancer`: each, per month). Node cost is shared
 * among the workloads by their peak requests (the mean of their cpu and memory shares); volumes
 * and load balancers belong to their workload. Pure: figures in, estimate out.
 */

/** Hours in an average month (365.25 × 24 / 12). */
export const HOURS_PER_MONTH = 730.5;

export interface NodePrice {
  readonly perNodeHour?: number;
  readonly perVcpuHour?: number;
  readonly perGiBHour?: number;
}

export interface CostInput {
  readonly currency: string;
  readonly pools: readonly {
    readonly pool: string;
    /** Nodes the peak placement uses. */
    readonly nodes: number;
    readonly price?: NodePrice;
    /** Per node, for per-vCPU and per-GiB prices. */
    readonly vcpus: number;
    readonly memoryGiB: number;
  }[];
  readonly workloads: readonly {
    readonly namespace: string;
    readonly name: string;
    /** Peak requests, in cores and GiB. */
    readonly cpu: number;
    readonly memoryGiB: number;
    /** Its volumes' total size and class (undefined: none). */
    readonly storage?: { readonly gib: number; readonly className: string | undefined };
    readonly loadBalancers: number;
  }[];
  /** Per GiB-month, by storage class. */
  readonly storagePrices: Readonly<Record<string, number>>;
  /** Each, per month. */
  readonly loadBalancerPrice?: number;
}

export interface CostEstimate {
  readonly currency: string;
  /** Per month. */
  readonly total: number;
  readonly nodes: number;
  readonly volumes: number;
  readonly loadBalancers: number;
  readonly byNamespace: Readonly<Record<string, number>>;
  /** By `namespace/name`. */
  readonly byWorkload: Readonly<Record<string, number>>;
  /** What has no price, so is not in the total (one line each). */
  readonly unpriced: readonly string[];
}

/** A pool node's price per hour, or undefined when the pool has none. */
export function nodeHourPrice(
  price: NodePrice | undefined,
  vcpus: number,
  memoryGiB: number,
): number | undefined {
  if (!price) return undefined;
  if (price.perNodeHour !== undefined) return price.perNodeHour;
  if (price.perVcpuHour !== undefined && price.perGiBHour !== undefined)
    return price.perVcpuHour * vcpus + price.perGiBHour * memoryGiB;
  return undefined;
}

/** The monthly cost of a stack; undefined when no price is configured at all. */
export function estimateCost(input: CostInput): CostEstimate | undefined {
  const priced =
    input.pools.some((p) => p.price) ||
    Object.keys(input.storagePrices).length > 0 ||
    input.loadBalancerPrice !== undefined;
  if (!priced) return undefined;
  const unpriced: string[] = [];
  let nodes = 0;
  for (const p of input.pools) {
    const hour = nodeHourPrice(p.price, p.vcpus, p.memoryGiB);
    if (hour === undefined) {
      if (p.nodes > 0)
        unpriced.push(`node pool ${p.pool} (${p.nodes} node${p.nodes === 1 ? "" : "s"}): no price`);
      continue;
    }
    nodes += hour * HOURS_PER_MONTH * p.nodes;
  }
  const totalCpu = input.workloads.reduce((s, w) => s + w.cpu, 0);
  const totalMem = input.workloads.reduce((s, w) => s + w.memoryGiB, 0);
  const byWorkload: Record<string, number> = {};
  const byNamespace: Record<string, number> = {};
  let volumes = 0;
  let loadBalancers = 0;
  for (const w of input.workloads) {
    const share =
      ((totalCpu > 0 ? w.cpu / totalCpu : 0) + (totalMem > 0 ? w.memoryGiB / totalMem : 0)) /
      (totalCpu > 0 && totalMem > 0 ? 2 : 1);
    let cost = nodes * share;
    if (w.storage && w.storage.gib > 0) {
      const cls = w.storage.className ?? "default";
      const price = input.storagePrices[cls];
      if (price === undefined)
        unpriced.push(
          `${w.namespace}/${w.name}: ${w.storage.gib}GiB of storage class ${cls}: no price`,
        );
      else {
        volumes += w.storage.gib * price;
        cost += w.storage.gib * price;
      }
    }
    if (w.loadBalancers > 0) {
      if (input.loadBalancerPrice === undefined)
        unpriced.push(`${w.namespace}/${w.name}: ${w.loadBalancers} LoadBalancer: no price`);
      else {
        loadBalancers += w.loadBalancers * input.loadBalancerPrice;
        cost += w.loadBalancers * input.loadBalancerPrice;
      }
    }
    byWorkload[`${w.namespace}/${w.name}`] = cost;
    byNamespace[w.namespace] = (byNamespace[w.namespace] ?? 0) + cost;
  }
  return {
    currency: input.currency,
    total: nodes + volumes + loadBalancers,
    nodes,
    volumes,
    loadBalancers,
    byNamespace,
    byWorkload,
    unpriced,
  };
}

/** An amount of money for reports: two decimals and the currency. */
export function formatMoney(amount: number, currency: string): string {
  return `${amount.toFixed(2)} ${currency}`;
}
