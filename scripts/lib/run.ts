/**
 * Bounded child processes: run a command with its output captured and a hard timeout that kills
 * its whole process tree, so a stuck command (pulumi, its language host, its providers) can never
 * hang the caller.
 *
 * The command runs in a process group of its own (detached); its stdin is `input`, then closed
 * (at once when there is none). When the timeout
 * passes, the tree is sent SIGTERM: the process, its group and every descendant found in /proc
 * (pulumi starts its plugins in process groups of their own, so the group alone is not enough);
 * KILL_GRACE_MS later, SIGKILL goes to what is left, including those descendants when the
 * command itself has exited meanwhile. When the command exits, what is left of its process
 * group is killed too (e.g. a shell's background children).
 *
 * Linux only for the descendants (/proc); elsewhere only the process and its group are signalled.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** How long a timed-out tree gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 5_000;

/** The exit code reported for a command that could not be started (as a shell does). */
export const NOT_STARTED = 127;

export interface RunOptions {
  /** The working directory (default: this process's). */
  readonly cwd?: string;
  /** The whole environment of the command (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Kill the command's tree when it has not exited after this many milliseconds. */
  readonly timeoutMs: number;
  /** Written to the command's stdin, which is then closed (e.g. a secret kept off argv). */
  readonly input?: string;
  /** Called with the command's pid as soon as it has started (e.g. to sample its tree). */
  readonly onSpawn?: (pid: number) => void;
}

export interface RunResult {
  /**
   * The exit code; null when it timed out or a signal ended it; NOT_STARTED (127) when it could
   * not be started (see `error`).
   */
  readonly code: number | null;
  /** The signal that ended it, when one did. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The timeout passed and the tree was killed. */
  readonly timedOut: boolean;
  /** Wall time from start to exit (whole milliseconds). */
  readonly ms: number;
  /** Why the command could not be started (e.g. code ENOENT: not on PATH). */
  readonly error?: NodeJS.ErrnoException;
}

/** Runs `cmd args` (no shell) to completion or timeout; never rejects. */
export function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const started = performance.now();
  return new Promise((res) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    child.stdin.on("error", () => {}); // a command that exits without reading: EPIPE
    child.stdin.end(opts.input ?? "");
    const pid = child.pid;
    if (pid !== undefined) track(pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    let timedOut = false;
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid === undefined) return;
      const tree = killTree(pid, "SIGTERM");
      setTimeout(() => killTree(pid, "SIGKILL", tree, settled), KILL_GRACE_MS).unref();
    }, opts.timeoutMs);
    const finish = (
      code: number | null,
      signal: NodeJS.Signals | null,
      error?: NodeJS.ErrnoException,
    ) => {
      // A command that cannot be started emits "error" and then "close": report it once.
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (pid !== undefined) live.delete(pid);
      if (pid !== undefined) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // the group is gone
        }
      }
      res({
        code: timedOut ? null : code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        timedOut,
        ms: Math.round(performance.now() - started),
        ...(error ? { error } : {}),
      });
    };
    child.on("error", (e: NodeJS.ErrnoException) => finish(NOT_STARTED, null, e));
    child.on("close", (code, signal) => finish(code, signal));
    if (pid !== undefined) opts.onSpawn?.(pid);
  });
}

/** Commands still running, killed with their trees if this process exits or is stopped. */
const live = new Set<number>();
let handlersInstalled = false;

function killLive(): void {
  for (const pid of live) killTree(pid, "SIGKILL");
  live.clear();
}

/**
 * Tracks a started command. The first one installs the handlers: on exit, and on SIGTERM,
 * SIGINT and SIGHUP (then the signal is raised again, so the process still ends as it would
 * have). A SIGKILL cannot be caught: the orphaned command then runs on until it ends.
 */
function track(pid: number): void {
  live.add(pid);
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", killLive);
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.once(signal, () => {
      killLive();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** `pid`'s parent, from /proc (Linux); undefined when unknown. */
function parentOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** Every live descendant of `pid` (Linux /proc; empty where there is none). */
export function descendantsOf(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    const ppid = parentOf(e);
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(e));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/**
 * Signals a process tree: `pid`, its process group and every descendant found now, plus the
 * pids in `known` (pulumi starts its language host and providers in process groups of their
 * own, so killing the group alone would leave them running). Returns every descendant it
 * signalled. With `exited`, `pid` itself is gone: only `known` is signalled.
 */
export function killTree(
  pid: number,
  signal: NodeJS.Signals,
  known: readonly number[] = [],
  exited = false,
): number[] {
  const pids = exited ? [...known] : [...new Set([...known, ...descendantsOf(pid)])];
  for (const target of exited ? pids : [-pid, pid, ...pids]) {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  }
  return pids;
}
