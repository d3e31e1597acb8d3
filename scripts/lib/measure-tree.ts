/**
 * Wall time, memory and CPU of one command's whole process tree, sampled from /proc (Linux): what
 * scripts/bench-engine.ts reports for each pulumi command.
 */
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { basename } from "node:path";
import { descendantsOf, run } from "./run";

const PAGE = 4096;

interface Sample {
  readonly treeKb: number;
  /** RSS by executable name (summed when several processes share one). */
  readonly byName: Map<string, number>;
  readonly processes: number;
  /** CPU seconds (user+system) each process has used so far, by pid, with its name. */
  readonly cpuByPid: Map<number, { name: string; cpuS: number }>;
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS = 100;

/**
 * RSS (kB) of `root` and every descendant, from /proc. The tree, not the process group: pulumi
 * starts its language host and providers in process groups of their own.
 */
function sampleTree(root: number): Sample {
  let treeKb = 0;
  const byName = new Map<string, number>();
  const cpuByPid = new Map<number, { name: string; cpuS: number }>();
  let processes = 0;
  for (const pid of [root, ...descendantsOf(root)]) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid ... : comm may hold spaces, so split after the last ')'.
    const close = stat.lastIndexOf(")");
    let name = stat.slice(stat.indexOf("(") + 1, close);
    try {
      // comm is a thread name for some (node shows "MainThread"); the executable is clearer.
      name = basename(readlinkSync(`/proc/${pid}/exe`));
    } catch {
      // keep comm
    }
    const fields = stat.slice(close + 2).split(" ");
    const rssKb = (Number(fields[21]) * PAGE) / 1024;
    processes++;
    treeKb += rssKb;
    byName.set(name, (byName.get(name) ?? 0) + rssKb);
    cpuByPid.set(pid, { name, cpuS: (Number(fields[11]) + Number(fields[12])) / TICKS });
  }
  return { treeKb, byName, processes, cpuByPid };
}

export interface Measured {
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly wallMs: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly peakTreeKb: number;
  /** Each executable's own peak (they need not peak at the same moment). */
  readonly peakByName: Map<string, number>;
  readonly peakProcesses: number;
  /** CPU seconds by executable name: each process's last sample, summed by name. */
  readonly cpuByName: Map<string, number>;
  /** /usr/bin/time -v "Maximum resident set size", when available. */
  readonly timeMaxRssKb?: number;
}

const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

/** Runs a command (scripts/lib/run.ts: its tree is killed on timeout), sampling its memory. */
export async function measure(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Measured> {
  const [file, argv] = GNU_TIME ? [GNU_TIME, ["-v", cmd, ...args]] : [cmd, [...args]];
  const peak = { treeKb: 0, processes: 0, byName: new Map<string, number>() };
  const cpu = new Map<number, { name: string; cpuS: number }>();
  const poll = (pid: number) => {
    const s: Sample = sampleTree(pid);
    for (const [p, c] of s.cpuByPid) cpu.set(p, c);
    peak.treeKb = Math.max(peak.treeKb, s.treeKb);
    peak.processes = Math.max(peak.processes, s.processes);
    for (const [name, kb] of s.byName)
      peak.byName.set(name, Math.max(kb, peak.byName.get(name) ?? 0));
  };
  let sampler: NodeJS.Timeout | undefined;
  const r = await run(file, argv, {
    ...opts,
    onSpawn: (pid) => {
      sampler = setInterval(() => poll(pid), 100);
    },
  });
  clearInterval(sampler);
  let stderr = r.error ? `${r.stderr}\n${r.error.message}` : r.stderr;
  let timeMaxRssKb: number | undefined;
  if (GNU_TIME) {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
    if (m) timeMaxRssKb = Number(m[1]);
    const at = stderr.lastIndexOf("\tCommand being timed:");
    if (at >= 0) stderr = stderr.slice(0, at);
  }
  return {
    code: r.code,
    timedOut: r.timedOut,
    wallMs: r.ms,
    stdout: r.stdout,
    stderr,
    peakTreeKb: peak.treeKb,
    peakByName: peak.byName,
    peakProcesses: peak.processes,
    cpuByName: [...cpu.values()].reduce(
      (m, { name, cpuS }) => m.set(name, (m.get(name) ?? 0) + cpuS),
      new Map<string, number>(),
    ),
    ...(timeMaxRssKb !== undefined ? { timeMaxRssKb } : {}),
  };
}
