/**
 * A real Kubernetes control plane for tests, on loopback: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler and the kwok controller, with fake Nodes built from a
 * stack's `cluster.nodePools` (the planner's own `nodesFromPools`: names, zone and hostname
 * labels, taints, allocatable minus overhead). Pods are scheduled for real and kwok's Stages make
 * them Running and Ready (Job pods Succeeded) without containers.
 *
 *   const cluster = await startCluster({ nodePools });
 *   try { await cluster.kubectl(["get", "nodes"]); } finally { await cluster.stop(); }
 *
 * Binaries come from `scripts/cluster/build.sh` (a cache outside the repository, keyed by the
 * versions in versions.json); `clusterBinaries()` is undefined until it has run. Every process
 * runs in its own process group; `stop()` ends them all and removes the work directory, and a
 * watchdog does the same if this Node process dies without calling it.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  closeSync,
} from "node:fs";
import { request } from "node:https";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { nodesFromPools } from "../../platform/capacity/capacity";
import { freePort } from "../lib/net";
import type { NodePoolConfig } from "../../platform/config/schema";
import type { NodeSpec } from "../../platform/capacity/placement";

const REPO = resolve(__dirname, "..", "..");

export interface ClusterVersions {
  readonly kubernetes: string;
  readonly etcd: string;
  readonly kwok: string;
}

export interface ClusterBinaries {
  readonly versions: ClusterVersions;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kubectl: string;
  readonly etcd: string;
  readonly kwok: string;
  /** kwok Stage documents copied from the kwok module at build time. */
  readonly stagesDir: string;
}

/** The versions pinned in versions.json. */
export function clusterVersions(): ClusterVersions {
  const v = JSON.parse(readFileSync(join(REPO, "versions.json"), "utf8")) as Record<
    string,
    unknown
  >;
  const pick = (k: string) => {
    if (typeof v[k] !== "string") throw new Error(`versions.json has no "${k}" version`);
    return v[k] as string;
  };
  return { kubernetes: pick("kubernetes"), etcd: pick("etcd"), kwok: pick("kwok") };
}

/** `<cache>/cluster`, as in build.sh. */
export function clusterCacheDir(): string {
  const base =
    process.env.PLATFORM_CACHE ||
    join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "k8s-platform");
  return join(base, "cluster");
}

/** The built binaries, or undefined when `scripts/cluster/build.sh` has not been run. */
export function clusterBinaries(): ClusterBinaries | undefined {
  const versions = clusterVersions();
  const cache = clusterCacheDir();
  const k8s = join(cache, `k8s-v${versions.kubernetes}`, "bin");
  const etcd = join(cache, `etcd-v${versions.etcd}`, "bin");
  const kwokDir = join(cache, `kwok-v${versions.kwok}`);
  const bins: ClusterBinaries = {
    versions,
    kubeApiserver: join(k8s, "kube-apiserver"),
    kubeControllerManager: join(k8s, "kube-controller-manager"),
    kubeScheduler: join(k8s, "kube-scheduler"),
    kubectl: join(k8s, "kubectl"),
    etcd: join(etcd, "etcd"),
    kwok: join(kwokDir, "bin", "kwok"),
    stagesDir: join(kwokDir, "stages"),
  };
  const files = [
    bins.kubeApiserver,
    bins.kubeControllerManager,
    bins.kubeScheduler,
    bins.kubectl,
    bins.etcd,
    bins.kwok,
  ];
  return files.every((f) => existsSync(f)) && existsSync(bins.stagesDir) ? bins : undefined;
}

export interface StartOptions {
  /** The stack's `cluster.nodePools`; each becomes `count` fake Nodes per zone. */
  readonly nodePools?: Readonly<Record<string, NodePoolConfig>>;
  /** Parent of the cluster's temporary directory. @default the OS temp dir */
  readonly workDir?: string;
  /** Progress lines (component started, ready after N ms). */
  readonly log?: (line: string) => void;
  /** Overall start deadline. @default 90 s */
  readonly timeoutMs?: number;
  /** The zone label the nodes carry. @default topology.kubernetes.io/zone */
  readonly zoneLabel?: string;
  /**
   * Allocatable ephemeral-storage of nodes whose pool does not declare
   * `allocatable.ephemeral-storage` (real nodes always report one, and our pods request it).
   * @default 100Gi
   */
  readonly nodeEphemeralStorage?: string;
  /** Extra kube-apiserver flags (`--name=value`). */
  readonly apiserverArgs?: readonly string[];
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Cluster {
  readonly kubeconfig: string;
  readonly server: string;
  readonly dir: string;
  readonly binaries: ClusterBinaries;
  /** The fake nodes, as the planner models them (updated by `setNodePools`). */
  readonly nodes: readonly NodeSpec[];
  /** Milliseconds from start to each component being ready. */
  readonly timings: Readonly<Record<string, number>>;
  /** kubectl against this cluster; never throws on a non-zero exit (see `code`). */
  kubectl(
    args: readonly string[],
    opts?: { input?: string; timeoutMs?: number },
  ): Promise<KubectlResult>;
  /** kubectl that throws with stderr on a non-zero exit. */
  kubectlOk(
    args: readonly string[],
    opts?: { input?: string; timeoutMs?: number },
  ): Promise<string>;
  /** Deletes nodes (pods bound to them are left to the pod garbage collector). */
  removeNodes(names: readonly string[]): Promise<void>;
  /** Replaces every node with `count` fake nodes per zone of each pool, and waits until Ready. */
  setNodePools(pools: Readonly<Record<string, NodePoolConfig>>): Promise<readonly NodeSpec[]>;
  /** The last lines of one component's log, for failure messages. */
  logTail(component: string, lines?: number): string;
  /** Ends every process (process groups, SIGTERM then SIGKILL) and removes the directory. */
  stop(): Promise<void>;
}

function run(
  file: string,
  args: readonly string[],
  opts: { cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<KubectlResult> {
  return new Promise((res) => {
    const child = execFile(
      file,
      args as string[],
      {
        cwd: opts.cwd,
        timeout: opts.timeoutMs ?? 60_000,
        killSignal: "SIGKILL",
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        const timedOut = err && (err as { killed?: boolean }).killed;
        res({
          code,
          stdout: String(stdout),
          stderr: timedOut
            ? `${String(stderr)}\n${file} ${args.join(" ")}: killed after ${opts.timeoutMs ?? 60_000} ms`
            : String(stderr),
        });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const r = await run("openssl", args, { cwd: dir, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr}`);
}

/** CA, apiserver serving cert, one admin client cert (system:masters), service-account key. */
async function makeCerts(dir: string, advertise: string): Promise<void> {
  // Arguments as words: none of the values below contains a space.
  const ssl = (words: string) => openssl(dir, words.trim().split(/\s+/));
  const key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  await ssl(
    `req -x509 ${key} -keyout ca.key -out ca.crt -days 3 -subj /CN=platform-test-ca
     -addext basicConstraints=critical,CA:TRUE
     -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature`,
  );
  const sign = async (name: string, subj: string, ext: string) => {
    await ssl(`req ${key} -keyout ${name}.key -out ${name}.csr -subj ${subj}`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    await ssl(
      `x509 -req -in ${name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out ${name}.crt
       -days 3 -extfile ${name}.ext`,
    );
  };
  const sans = [
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
    "IP:127.0.0.1",
    "IP:10.96.0.1",
    ...(advertise !== "127.0.0.1" ? [`IP:${advertise}`] : []),
  ];
  await sign(
    "apiserver",
    "/CN=kube-apiserver",
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans.join(",")}\n`,
  );
  await sign(
    "admin",
    "/O=system:masters/CN=platform-test-admin",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
  );
  await ssl("ecparam -name prime256v1 -genkey -noout -out sa.key");
  await ssl("ec -in sa.key -pubout -out sa.pub");
}

function kubeconfigYaml(server: string, dir: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: ${server}
    certificate-authority: ${join(dir, "ca.crt")}
users:
- name: admin
  user:
    client-certificate: ${join(dir, "admin.crt")}
    client-key: ${join(dir, "admin.key")}
contexts:
- name: test
  context: { cluster: test, user: admin }
current-context: test
`;
}

/** GET over TLS with the admin certificate; resolves with the status code (0 when unreachable). */
function probe(
  url: string,
  dir: string,
  verify: boolean,
  timeoutMs = 2_000,
): Promise<{ status: number; body: string }> {
  return new Promise((res) => {
    const req = request(
      url,
      {
        ca: readFileSync(join(dir, "ca.crt")),
        cert: readFileSync(join(dir, "admin.crt")),
        key: readFileSync(join(dir, "admin.key")),
        // The controller-manager and scheduler serve self-signed certificates.
        rejectUnauthorized: verify,
        timeout: timeoutMs,
      },
      (resp) => {
        let body = "";
        resp.on("data", (c: Buffer) => (body += c.toString()));
        resp.on("end", () => res({ status: resp.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => res({ status: 0, body: "" }));
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
  exited: boolean;
}

/** Processes of every running cluster in this Node process, for the exit handlers. */
const live = new Set<Proc>();
let handlersInstalled = false;

function killGroup(p: Proc, signal: NodeJS.Signals): void {
  if (p.exited || p.child.pid === undefined) return;
  try {
    process.kill(-p.child.pid, signal);
  } catch {
    /* already gone */
  }
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", () => {
    for (const p of live) killGroup(p, "SIGKILL");
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      for (const p of live) killGroup(p, "SIGKILL");
      process.kill(process.pid, sig);
    });
  }
}

/**
 * A shell that outlives nothing: once this Node process is gone (or `stop()` removed the
 * `alive` file) it kills every process group listed in `pgids` and removes the directory.
 */
function startWatchdog(dir: string): ChildProcess {
  const script = `
while kill -0 ${process.pid} 2>/dev/null && [ -e "$1/alive" ]; do sleep 1; done
if [ -e "$1/alive" ]; then
  for g in $(cat "$1/pgids" 2>/dev/null); do kill -9 "-$g" 2>/dev/null; done
  sleep 1
  rm -rf "$1"
fi`;
  const child = spawn("sh", ["-c", script, "watchdog", dir], {
    detached: true,
    stdio: "ignore",
  });
  child.unref();
  return child;
}

/**
 * A pod labelled `FAIL_POD_LABEL: "true"` fails instead of completing or becoming ready: its
 * containers end with exit code 1 (what a failing test Job does on a real node). kwok picks among
 * matching stages by weight, so this one (10000) always wins over the module's (0).
 */
export const FAIL_POD_LABEL = "pod-container-running-failed.stage.kwok.x-k8s.io";
const POD_FAIL_STAGE = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-fail
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
      - key: '.metadata.labels["${FAIL_POD_LABEL}"]'
        operator: In
        values: ["true"]
      - key: .metadata.deletionTimestamp
        operator: DoesNotExist
      - key: .status.phase
        operator: In
        values: [Running]
  weight: 10000
  next:
    statusTemplate: |
      {{ $now := Now }}
      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: 1
            reason: Error
            startedAt: {{ $now | Quote }}
            finishedAt: {{ $now | Quote }}
      {{ end }}
      phase: Failed`;

export async function startCluster(opts: StartOptions = {}): Promise<Cluster> {
  const bins = clusterBinaries();
  if (!bins) {
    throw new Error(
      `the test control plane is not built (no binaries under ${clusterCacheDir()}): run bash scripts/cluster/build.sh`,
    );
  }
  installExitHandlers();
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const deadline = t0 + (opts.timeoutMs ?? 90_000);
  const timings: Record<string, number> = {};
  const parent = opts.workDir ?? tmpdir();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, "k8s-test-"));
  writeFileSync(join(dir, "alive"), "");
  writeFileSync(join(dir, "pgids"), "");
  startWatchdog(dir);
  const procs: Proc[] = [];
  let stopped = false;

  /** SIGTERM to each group, SIGKILL to what is left after `graceMs`; resolves once all exited. */
  const terminate = async (ps: Proc[], graceMs: number): Promise<void> => {
    for (const p of ps) killGroup(p, "SIGTERM");
    const soft = Date.now() + graceMs;
    while (ps.some((p) => !p.exited) && Date.now() < soft) await sleep(50);
    for (const p of ps) killGroup(p, "SIGKILL");
    const hard = Date.now() + 5_000;
    while (ps.some((p) => !p.exited) && Date.now() < hard) await sleep(50);
  };

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Everything but etcd first (the apiserver hangs in shutdown once etcd is gone), then etcd.
    await terminate(
      procs.filter((p) => p.name !== "etcd"),
      5_000,
    );
    await terminate(
      procs.filter((p) => p.name === "etcd"),
      5_000,
    );
    for (const p of procs) live.delete(p);
    rmSync(dir, { recursive: true, force: true });
  };

  const launch = (name: string, file: string, args: string[]): Proc => {
    const logFile = join(dir, "logs", `${name}.log`);
    mkdirSync(join(dir, "logs"), { recursive: true });
    const fd = openSync(logFile, "a");
    const child = spawn(file, args, { detached: true, stdio: ["ignore", fd, fd], cwd: dir });
    closeSync(fd);
    const p: Proc = { name, child, log: logFile, exited: false };
    child.on("exit", () => (p.exited = true));
    child.on("error", () => (p.exited = true));
    procs.push(p);
    live.add(p);
    writeFileSync(join(dir, "pgids"), procs.map((x) => x.child.pid).join("\n") + "\n");
    log(`started ${name} (pid ${child.pid})`);
    return p;
  };

  const logTail = (component: string, lines = 30): string => {
    const f = join(dir, "logs", `${component}.log`);
    if (!existsSync(f)) return "";
    return readFileSync(f, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  };

  const waitFor = async (what: string, p: Proc | undefined, check: () => Promise<boolean>) => {
    for (;;) {
      if (p?.exited) {
        throw new Error(`${what}: ${p.name} exited during start-up:\n${logTail(p.name)}`);
      }
      if (await check()) break;
      if (Date.now() > deadline) {
        throw new Error(
          `${what}: not ready after ${Date.now() - t0} ms${p ? `:\n${logTail(p.name)}` : ""}`,
        );
      }
      await sleep(200);
    }
    timings[what] = Date.now() - t0;
    log(`${what} ready after ${timings[what]} ms`);
  };

  try {
    const advertise = "127.0.0.1";
    const [etcdPort, etcdPeer, apiPort, kcmPort, schedPort, kwokPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    await makeCerts(dir, advertise);
    timings.certs = Date.now() - t0;
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(kubeconfig, kubeconfigYaml(server, dir));

    const etcd = launch("etcd", bins.etcd, [
      "--name=test",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=test=http://127.0.0.1:${etcdPeer}`,
      "--unsafe-no-fsync=true",
      "--quota-backend-bytes=1073741824",
      "--log-level=warn",
    ]);
    await waitFor("etcd", etcd, async () => {
      const r = await fetch(`http://127.0.0.1:${etcdPort}/health`).catch(() => undefined);
      return r?.status === 200;
    });

    const apiserver = launch("kube-apiserver", bins.kubeApiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      "--bind-address=127.0.0.1",
      // The address written into the `kubernetes` Service's endpoints; with the reconciler off
      // it need not be routable, so a host without a default route works too.
      `--advertise-address=${advertise}`,
      "--endpoint-reconciler-type=none",
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, "apiserver-certs")}`,
      `--tls-cert-file=${join(dir, "apiserver.crt")}`,
      `--tls-private-key-file=${join(dir, "apiserver.key")}`,
      `--client-ca-file=${join(dir, "ca.crt")}`,
      `--service-account-key-file=${join(dir, "sa.pub")}`,
      `--service-account-signing-key-file=${join(dir, "sa.key")}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      "--service-cluster-ip-range=10.96.0.0/16",
      "--authorization-mode=Node,RBAC",
      // The default plugins already include NamespaceLifecycle, LimitRanger, ServiceAccount,
      // PodSecurity and ResourceQuota; spelled out so the tests do not depend on defaults.
      "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,PodSecurity,ResourceQuota,DefaultStorageClass,StorageObjectInUseProtection,PersistentVolumeClaimResize",
      "--allow-privileged=false",
      "--profiling=false",
      "--v=1",
      ...(opts.apiserverArgs ?? []),
    ]);
    await waitFor("kube-apiserver", apiserver, async () => {
      const r = await probe(`${server}/readyz`, dir, true);
      return r.status === 200;
    });

    const kcm = launch("kube-controller-manager", bins.kubeControllerManager, [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${kcmPort}`,
      `--cert-dir=${join(dir, "kcm-certs")}`,
      `--root-ca-file=${join(dir, "ca.crt")}`,
      `--service-account-private-key-file=${join(dir, "sa.key")}`,
      "--leader-elect=false",
      "--controllers=*",
      // HPA decisions every 5 s instead of 15 s, so scaling tests settle sooner.
      "--horizontal-pod-autoscaler-sync-period=5s",
      // Tests simulate node and zone outages with taints and deletions, never by missed
      // heartbeats; a longer grace keeps a CPU-starved kwok from making every pod NotReady.
      "--node-monitor-grace-period=2m",
      "--v=1",
    ]);
    const scheduler = launch("kube-scheduler", bins.kubeScheduler, [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${schedPort}`,
      `--cert-dir=${join(dir, "scheduler-certs")}`,
      "--leader-elect=false",
      "--v=1",
    ]);
    const stages = readdirSync(bins.stagesDir)
      .filter((f) => f.endsWith(".yaml"))
      .sort()
      .map((f) =>
        readFileSync(join(bins.stagesDir, f), "utf8")
          // The volume stages provision only the class `kwok-volume`; here every class is
          // simulated, so a stack's own storage class (kind's `standard`, EKS's `gp3`) works.
          .replace(
            /self\.spec\.storageClassName == 'kwok-volume'/g,
            "has(self.spec.storageClassName)",
          )
          .trimEnd(),
      );
    writeFileSync(join(dir, "kwok.yaml"), [...stages, POD_FAIL_STAGE].join("\n---\n") + "\n");
    const kwok = launch("kwok", bins.kwok, [
      `--kubeconfig=${kubeconfig}`,
      `--config=${join(dir, "kwok.yaml")}`,
      "--manage-all-nodes=true",
      // Renew a Lease per node (every 10 s) like a kubelet. Without it kwok only patches node
      // status now and then, the node lifecycle controller marks the node Unknown and all its
      // pods NotReady, and rollouts stall (seen: a Deployment update waiting 5 minutes).
      "--node-lease-duration-seconds=40",
      `--server-address=127.0.0.1:${kwokPort}`,
      "--node-ip=127.0.0.1",
    ]);
    await Promise.all([
      waitFor("kube-controller-manager", kcm, async () => {
        const r = await probe(`https://127.0.0.1:${kcmPort}/healthz`, dir, false);
        return r.status === 200;
      }),
      waitFor("kube-scheduler", scheduler, async () => {
        const r = await probe(`https://127.0.0.1:${schedPort}/healthz`, dir, false);
        return r.status === 200;
      }),
      waitFor("kwok", kwok, async () => {
        const r = await fetch(`http://127.0.0.1:${kwokPort}/healthz`).catch(() => undefined);
        return r?.status === 200;
      }),
    ]);

    const kubectl = (
      args: readonly string[],
      o: { input?: string; timeoutMs?: number } = {},
    ): Promise<KubectlResult> =>
      run(bins.kubectl, [`--kubeconfig=${kubeconfig}`, ...args], {
        cwd: dir,
        ...(o.input !== undefined ? { input: o.input } : {}),
        timeoutMs: o.timeoutMs ?? 60_000,
      });
    const kubectlOk = async (
      args: readonly string[],
      o: { input?: string; timeoutMs?: number } = {},
    ): Promise<string> => {
      const r = await kubectl(args, o);
      if (r.code !== 0)
        throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    };

    // The default ServiceAccount and the kube-root-ca ConfigMap show the controllers work.
    await waitFor("controllers", undefined, async () => {
      const r = await kubectl(["get", "serviceaccount", "default", "-n", "default", "-o", "name"], {
        timeoutMs: 5_000,
      });
      return r.code === 0;
    });

    let nodes: NodeSpec[] = [];
    const setNodePools = async (
      pools: Readonly<Record<string, NodePoolConfig>>,
    ): Promise<readonly NodeSpec[]> => {
      await kubectlOk(["delete", "nodes", "--all", "--wait=true"], { timeoutMs: 60_000 });
      nodes = nodesFromPools(pools, opts.zoneLabel);
      if (nodes.length === 0) return nodes;
      await kubectlOk(["create", "-f", "-"], {
        input: JSON.stringify({
          apiVersion: "v1",
          kind: "List",
          items: nodes.map((n) => nodeObject(n, opts.nodeEphemeralStorage)),
        }),
      });
      const until = Date.now() + 60_000;
      for (;;) {
        const r = await kubectl(
          [
            "get",
            "nodes",
            "-o",
            'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
          ],
          { timeoutMs: 5_000 },
        );
        const ready = r.stdout.split("\n").filter((x) => x === "True").length;
        if (r.code === 0 && ready === nodes.length) return nodes;
        if (kwok.exited) throw new Error(`kwok exited:\n${logTail("kwok")}`);
        if (Date.now() > until) {
          throw new Error(
            `nodes not Ready after 60 s (${ready}/${nodes.length}):\n${logTail("kwok")}`,
          );
        }
        await sleep(200);
      }
    };
    if (opts.nodePools && Object.keys(opts.nodePools).length > 0) {
      await setNodePools(opts.nodePools);
      timings.nodes = Date.now() - t0;
      log(`nodes ready after ${timings.nodes} ms`);
    }
    timings.total = Date.now() - t0;

    const removeNodes = async (names: readonly string[]): Promise<void> => {
      if (names.length > 0) await kubectlOk(["delete", "node", ...names, "--wait=true"]);
    };

    return {
      kubeconfig,
      server,
      dir,
      binaries: bins,
      get nodes() {
        return nodes;
      },
      timings,
      kubectl,
      kubectlOk,
      removeNodes,
      setNodePools,
      logTail,
      stop: async () => {
        rmSync(join(dir, "alive"), { force: true });
        await stop();
      },
    };
  } catch (e) {
    rmSync(join(dir, "alive"), { force: true });
    await stop();
    throw e;
  }
}

/**
 * A fake Node for kwok: the planner's node with allocatable reduced by the pool's overhead (what
 * DaemonSets and system pods would request), labels and taints as configured, and
 * `fallbackEphemeralStorage` when the pool does not declare ephemeral-storage.
 */
export function nodeObject(
  n: NodeSpec,
  fallbackEphemeralStorage = "100Gi",
): Record<string, unknown> {
  const cpu = n.cpu - (n.reserved?.cpu ?? 0);
  const memory = n.memory - (n.reserved?.memory ?? 0);
  const pods = n.pods - (n.reserved?.pods ?? 0);
  const resources = {
    cpu: `${cpu}m`,
    memory: `${memory}`,
    pods: `${pods}`,
    "ephemeral-storage":
      n.ephemeralStorage === undefined
        ? fallbackEphemeralStorage
        : `${n.ephemeralStorage - (n.reserved?.ephemeralStorage ?? 0)}`,
  };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: n.name,
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/role": "agent",
        "node-role.kubernetes.io/agent": "",
        type: "kwok",
        ...(n.labels ?? {}),
      },
    },
    spec: n.taints && n.taints.length > 0 ? { taints: n.taints } : {},
    status: { allocatable: resources, capacity: resources },
  };
}
