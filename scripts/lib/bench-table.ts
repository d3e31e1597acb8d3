/**
 * The engine benchmark's results (scripts/bench-engine.ts): one row per pulumi command, printed
 * as an aligned table, and the resource count read from a command's JSON output.
 */
import type { Measured } from "./measure-tree";
import type { Backend, BenchProgram } from "./bench-variants";

/** How the synthetic application reaches the program: stack config, or application files. */
export type ConfigVia = "stack" | "files";
export type Logs = "off" | "on";

export interface Row {
  readonly size: number;
  readonly program: BenchProgram;
  readonly via: ConfigVia;
  readonly backend: Backend;
  readonly logs: Logs;
  /** The `--with-env` variable this run set (`NAME=VALUE`), or "-" for the defaults. */
  readonly withEnv: string;
  readonly resources: number;
  readonly command: string;
  readonly m: Measured;
}

export const mb = (kb: number | undefined) => (kb === undefined ? "-" : (kb / 1024).toFixed(0));
export const secs = (ms: number) => (ms / 1000).toFixed(1);

export function table(rows: readonly Row[]): string {
  const head = [
    "workloads",
    "program",
    "config via",
    "backend",
    "pulumi logs",
    "env",
    "resources",
    "command",
    "wall s",
    "tree peak MB",
    "peak MB by process",
    "CPU s by process (last sample)",
    "time -v maxrss MB",
    "processes",
  ];
  const body = rows.map((r) => [
    String(r.size),
    r.program,
    r.via,
    r.backend,
    r.logs,
    r.withEnv,
    String(r.resources),
    r.command,
    r.m.timedOut ? `>${secs(r.m.wallMs)} (killed)` : secs(r.m.wallMs),
    mb(r.m.peakTreeKb),
    [...r.m.peakByName]
      .filter(([name]) => name !== "time")
      .sort((a, b) => b[1] - a[1])
      .map(([name, kb]) => `${name} ${mb(kb)}`)
      .join(", "),
    [...r.m.cpuByName]
      .filter(([name]) => name !== "time")
      .sort((a, b) => b[1] - a[1])
      .filter(([, s]) => s >= 0.1)
      .map(([name, s]) => `${name} ${s.toFixed(1)}`)
      .join(", "),
    mb(r.m.timeMaxRssKb),
    String(r.m.peakProcesses),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) =>
        (i < 8 && i !== 6) || i === 10 || i === 11 ? c.padEnd(widths[i]) : c.padStart(widths[i]),
      )
      .join("  ");
  return [line(head), ...body.map(line)].join("\n");
}

export function resourcesIn(stdout: string): number {
  try {
    const text = stdout.trim();
    const end = text.search(/\n\}\r?(\n|$)/);
    const doc = JSON.parse(end >= 0 ? text.slice(0, end + 2) : text) as {
      changeSummary?: Record<string, number>;
    };
    return Object.values(doc.changeSummary ?? {}).reduce((a, b) => a + b, 0);
  } catch {
    return 0;
  }
}
