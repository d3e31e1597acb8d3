/**
 * Promotion gates (a stage's `gate` in `platform:stages`): before a release enters a stage, the
 * source stage must have run it for the soak time, its rollouts must be complete and, when the
 * gate names one, the source's verification Job must have succeeded for that release.
 *
 * What ran when is read from the source stack's update history in its backend
 * (`pulumi stack history --json`: each update's commit, `git.head`, and config), which outlives
 * any runner; the rollouts and the Job from its cluster (`kubectl get -o json`). Everything here
 * but `collectEvidence` is pure: evidence in, problems out.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  formatDuration,
  RELEASE_ANNOTATION,
  shortRelease,
  type Stage,
} from "../../platform/config";
import { NAME_LABEL } from "../../components/labels";

/** One update of a stack, from its history. */
export interface UpdateRecord {
  /** update, refresh, destroy, import, ... */
  readonly kind: string;
  /** succeeded, failed, in-progress */
  readonly result: string;
  /** When it ended (ms since the epoch); undefined while it runs. */
  readonly endTime: number | undefined;
  /** The commit it ran (`git.head`), when it ran in a git checkout. */
  readonly release: string | undefined;
  /** What else it ran with: its config, as text (two updates with equal ones ran the same). */
  readonly config: string;
}

/** A workload's rollout, from the cluster. */
export interface RolloutStatus {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Why it is not complete; undefined when it is. */
  readonly pending?: string;
}

/** A Job, from the cluster. */
export interface JobStatus {
  readonly namespace: string;
  readonly name: string;
  /** Its service (the `app.kubernetes.io/name` label). */
  readonly service: string | undefined;
  /** The release its pod template is stamped with (`platform/release`). */
  readonly release: string | undefined;
  readonly state: "succeeded" | "failed" | "running";
  /** The failed condition's reason and message, when failed. */
  readonly detail?: string;
}

export interface GateEvidence {
  /** The source stage's name. */
  readonly source: string;
  /** The release the source's outputs say it runs (what is being promoted). */
  readonly release: string;
  /** The source stack's updates, newest first. */
  readonly history: readonly UpdateRecord[];
  /** Its cluster; undefined when it has none (it renders YAML). */
  readonly cluster?: {
    readonly rollouts: readonly RolloutStatus[];
    readonly jobs: readonly JobStatus[];
  };
}

export interface GateResult {
  /** Why the release may not enter the stage yet, each with when or how it can. */
  readonly problems: readonly string[];
  /** What passed, for the log and the pull request. */
  readonly passed: readonly string[];
}

/**
 * Whether `evidence` lets a release into `target` (a stage with a gate) at `now`.
 */
export function evaluateGate(target: Stage, evidence: GateEvidence, now: number): GateResult {
  const gate = target.gate;
  if (!gate) return { problems: [], passed: [] };
  const problems: string[] = [];
  const passed: string[] = [];
  const { source } = evidence;
  const release = shortRelease(evidence.release);
  const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

  // Soak: the trailing run of successful updates that ran the same thing as the newest one.
  const updates = evidence.history.filter((u) => u.kind !== "refresh" && u.kind !== "preview");
  const latest = updates[0];
  const newestOk = updates.findIndex((u) => u.result === "succeeded" && u.kind === "update");
  if (latest === undefined || newestOk < 0) {
    problems.push(
      `${source} has no successful update in its history: deploy it (npm run deploy -- --stage ${source} --command up) before promoting out of it`,
    );
  } else if (newestOk > 0) {
    problems.push(
      `${source}'s latest ${latest.kind} ${latest.result === "in-progress" ? "is still running" : `${latest.result}${latest.endTime ? ` (${at(latest.endTime)})` : ""}`}: what it runs now is not verified; deploy it successfully, then promote`,
    );
  } else if (latest.release !== evidence.release) {
    problems.push(
      `${source}'s latest update ran ${latest.release ? shortRelease(latest.release) : "no known commit (not a git checkout)"}, but its outputs name release ${release}: deploy it with npm run deploy -- --stage ${source} --command up`,
    );
  } else {
    let first = latest;
    for (const u of updates.slice(1)) {
      if (u.kind !== "update" || u.result !== "succeeded") break;
      if (u.release !== latest.release || u.config !== latest.config) break;
      first = u;
    }
    const since = first.endTime ?? now;
    const soaked = now - since;
    if (soaked < gate.soakMs) {
      problems.push(
        `${source} has run release ${release} for ${formatDuration(soaked)} (since ${at(since)}); ${target.name} requires ${formatDuration(gate.soakMs)}: promote after ${at(since + gate.soakMs)}`,
      );
    } else if (gate.soakMs > 0) {
      passed.push(
        `soak: ${source} has run release ${release} for ${formatDuration(soaked)} (since ${at(since)}; ${target.name} requires ${formatDuration(gate.soakMs)})`,
      );
    }
  }

  const cluster = evidence.cluster;
  if (!cluster) {
    if (gate.verify !== undefined)
      problems.push(
        `gate.verify: ${source} has no cluster (it renders YAML), so its verification Job ${gate.verify} cannot have run; remove verify from ${target.name}'s gate or give ${source} a cluster`,
      );
    else passed.push(`rollouts: ${source} renders YAML (no cluster): nothing rolls out`);
    return { problems, passed };
  }
  const pending = cluster.rollouts.filter((r) => r.pending !== undefined);
  for (const r of pending)
    problems.push(
      `${source}: ${r.kind} ${r.namespace}/${r.name} has not finished rolling out (${r.pending}); promote once it has`,
    );
  if (pending.length === 0)
    passed.push(
      `rollouts: ${cluster.rollouts.length} workload${cluster.rollouts.length === 1 ? "" : "s"} of ${source} complete`,
    );

  if (gate.verify !== undefined) {
    const job = cluster.jobs.find((j) => j.service === gate.verify);
    const name = job ? `${job.namespace}/${job.name}` : gate.verify;
    if (!job)
      problems.push(
        `gate.verify: no Job of service ${gate.verify} in ${source}'s cluster; it must be a job service that ${source} runs`,
      );
    else if (job.release !== evidence.release)
      problems.push(
        `gate.verify: Job ${name} in ${source} ran for ${job.release ? `release ${shortRelease(job.release)}` : "no release (deployed without npm run deploy)"}, not ${release}; deploy ${source} with npm run deploy, which re-runs it for its release`,
      );
    else if (job.state === "failed")
      problems.push(
        `gate.verify: Job ${name} failed in ${source} for release ${release}${job.detail ? ` (${job.detail})` : ""}: the release is not verified; see kubectl logs -n ${job.namespace} job/${job.name}`,
      );
    else if (job.state === "running")
      problems.push(
        `gate.verify: Job ${name} in ${source} has not finished for release ${release}; promote once it succeeded`,
      );
    else passed.push(`verify: Job ${name} succeeded in ${source} for release ${release}`);
  }
  return { problems, passed };
}

// ---------------------------------------------------------------------------------------------
// Reading the evidence

/** `pulumi stack history --json` as UpdateRecords, newest first. */
export function parseHistory(json: unknown): UpdateRecord[] {
  if (!Array.isArray(json)) throw new Error("not a list of updates");
  return json
    .map((u: Record<string, unknown>) => {
      const env = (u.environment ?? {}) as Record<string, string>;
      const config = (u.config ?? {}) as Record<string, { value?: string; secret?: boolean }>;
      const ordered = Object.keys(config)
        .sort()
        .map((k) => [k, config[k].secret ? "[secret]" : (config[k].value ?? null)]);
      const end = typeof u.endTime === "string" ? Date.parse(u.endTime) : NaN;
      return {
        version: Number(u.version ?? 0),
        record: {
          kind: String(u.kind ?? ""),
          result: String(u.result ?? "in-progress"),
          endTime: Number.isNaN(end) ? undefined : end,
          release: env["git.head"] || undefined,
          config: JSON.stringify(ordered),
        },
      };
    })
    .sort((a, b) => b.version - a.version)
    .map((u) => u.record);
}

type K8sList = { items?: Record<string, any>[] }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Rollouts and Jobs from `kubectl get deployments,statefulsets,daemonsets,jobs -o json`. */
export function parseClusterObjects(list: K8sList): {
  rollouts: RolloutStatus[];
  jobs: JobStatus[];
} {
  const rollouts: RolloutStatus[] = [];
  const jobs: JobStatus[] = [];
  for (const o of list.items ?? []) {
    const meta = o.metadata ?? {};
    const spec = o.spec ?? {};
    const status = o.status ?? {};
    const id = { kind: String(o.kind), namespace: String(meta.namespace), name: String(meta.name) };
    const stale = (status.observedGeneration ?? 0) < (meta.generation ?? 0);
    const want = spec.replicas ?? 1;
    let pending: string | undefined;
    switch (o.kind) {
      case "Deployment":
        if (stale) pending = "the controller has not seen its latest spec";
        else if ((status.updatedReplicas ?? 0) < want)
          pending = `${status.updatedReplicas ?? 0} of ${want} replicas updated`;
        else if ((status.replicas ?? 0) > want)
          pending = `${status.replicas - want} old replica${status.replicas - want === 1 ? "" : "s"} still running`;
        else if ((status.availableReplicas ?? 0) < want)
          pending = `${status.availableReplicas ?? 0} of ${want} replicas available`;
        rollouts.push({ ...id, ...(pending ? { pending } : {}) });
        break;
      case "StatefulSet":
        if (stale) pending = "the controller has not seen its latest spec";
        else if (
          (status.updatedReplicas ?? 0) < want ||
          status.currentRevision !== status.updateRevision
        )
          pending = `${status.updatedReplicas ?? 0} of ${want} replicas updated`;
        else if ((status.readyReplicas ?? 0) < want)
          pending = `${status.readyReplicas ?? 0} of ${want} replicas ready`;
        rollouts.push({ ...id, ...(pending ? { pending } : {}) });
        break;
      case "DaemonSet": {
        const desired = status.desiredNumberScheduled ?? 0;
        if (stale) pending = "the controller has not seen its latest spec";
        else if ((status.updatedNumberScheduled ?? 0) < desired)
          pending = `${status.updatedNumberScheduled ?? 0} of ${desired} pods updated`;
        else if ((status.numberAvailable ?? 0) < desired)
          pending = `${status.numberAvailable ?? 0} of ${desired} pods available`;
        rollouts.push({ ...id, ...(pending ? { pending } : {}) });
        break;
      }
      case "Job": {
        const conditions: { type: string; status: string; reason?: string; message?: string }[] =
          status.conditions ?? [];
        const failed = conditions.find((c) => c.type === "Failed" && c.status === "True");
        const complete = conditions.some((c) => c.type === "Complete" && c.status === "True");
        const labels = (meta.labels ?? {}) as Record<string, string>;
        const annotations = (spec.template?.metadata?.annotations ?? {}) as Record<string, string>;
        jobs.push({
          namespace: id.namespace,
          name: id.name,
          service: labels[NAME_LABEL],
          release: annotations[RELEASE_ANNOTATION],
          state: failed ? "failed" : complete ? "succeeded" : "running",
          ...(failed ? { detail: [failed.reason, failed.message].filter(Boolean).join(": ") } : {}),
        });
        break;
      }
    }
  }
  return { rollouts, jobs };
}

// ---------------------------------------------------------------------------------------------
// Collecting it (the side effects)

/** Evidence could not be collected: names the command and what it said. */
export class EvidenceError extends Error {
  override name = "EvidenceError";
}

export interface EvidenceSource {
  /** The source stage's name and stack. */
  readonly stage: string;
  readonly stack: string;
  /** The project directory (pulumi runs there). */
  readonly dir: string;
  /** The release its outputs name, and the namespaces it manages. */
  readonly release: string;
  readonly namespaces: readonly string[];
  /** Its cluster: undefined when it renders YAML; else its kubeconfig and context, if set. */
  readonly cluster?: { readonly kubeconfig?: string; readonly context?: string };
}

/** Reads the source's history from its backend and, when it has a cluster, its workloads. */
export function collectEvidence(src: EvidenceSource): GateEvidence {
  const history = command(
    "pulumi",
    ["stack", "history", "--json", "--stack", src.stack, "--non-interactive"],
    src.dir,
    `the update history of ${src.stage}`,
  );
  let parsed: UpdateRecord[];
  try {
    parsed = parseHistory(JSON.parse(history));
  } catch (e) {
    throw new EvidenceError(
      `pulumi stack history --json --stack ${src.stack}: unexpected output (${(e as Error).message})`,
    );
  }
  if (!src.cluster) return { source: src.stage, release: src.release, history: parsed };
  const kubectl = process.env.KUBECTL || "kubectl";
  const scratch = mkdtempSync(join(tmpdir(), "gate-"));
  try {
    const args: string[] = [];
    const kc = src.cluster.kubeconfig;
    if (kc !== undefined) {
      // A path, or (as the Kubernetes provider also takes) the kubeconfig's content.
      const path = /\n|^apiVersion:|^\{/.test(kc) ? join(scratch, "kubeconfig") : kc;
      if (path !== kc) writeFileSync(path, kc, { mode: 0o600 });
      args.push("--kubeconfig", path);
    }
    if (src.cluster.context !== undefined) args.push("--context", src.cluster.context);
    const items: K8sList["items"] = [];
    for (const ns of src.namespaces) {
      const out = command(
        kubectl,
        [...args, "get", "deployments,statefulsets,daemonsets,jobs", "-n", ns, "-o", "json"],
        src.dir,
        `the workloads of ${src.stage} in namespace ${ns}`,
      );
      items.push(...((JSON.parse(out) as K8sList).items ?? []));
    }
    return {
      source: src.stage,
      release: src.release,
      history: parsed,
      cluster: parseClusterObjects({ items }),
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function command(bin: string, args: string[], cwd: string, what: string): string {
  const r = spawnSync(bin, args, { cwd, encoding: "utf8", timeout: 120_000, maxBuffer: 256 << 20 });
  if (r.error)
    throw new EvidenceError(
      `could not read ${what}: ${bin} ${(r.error as NodeJS.ErrnoException).code === "ENOENT" ? "is not on PATH" : r.error.message}`,
    );
  if (r.status !== 0)
    throw new EvidenceError(
      `could not read ${what}: ${bin} ${args.join(" ")} exited ${r.status}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`,
    );
  return r.stdout;
}
