/**
 * How many runs of a CronJob can be active at once. `Forbid` and `Replace` keep one; under
 * `Allow` a run may last up to `activeDeadlineSeconds` while new ones start on the schedule, so
 * as many overlap as the deadline spans of the schedule's shortest interval.
 */
import { CronExpressionParser } from "cron-parser";
import type { WorkloadConfig } from "../../components/schema";

/** Runs looked at to find the shortest interval, within a year from a fixed date. */
const SAMPLE_RUNS = 10_000;
const YEAR_MS = 366 * 24 * 3600 * 1000;
const shortestCache = new Map<string, number>();

/** The shortest time between two runs of the schedule, in seconds (computed once per schedule). */
export function shortestInterval(schedule: string, timeZone?: string): number {
  const key = `${schedule}\u0000${timeZone ?? ""}`;
  const cached = shortestCache.get(key);
  if (cached !== undefined) return cached;
  const start = new Date("2026-01-01T00:00:00Z");
  const runs = CronExpressionParser.parse(schedule, { currentDate: start, tz: timeZone ?? "UTC" });
  let previous = runs.next().getTime();
  let shortest = Infinity;
  for (let i = 0; i < SAMPLE_RUNS && runs.hasNext(); i++) {
    const next = runs.next().getTime();
    shortest = Math.min(shortest, (next - previous) / 1000);
    previous = next;
    // Nothing runs more often than once a minute; a year shows every pattern of the fields.
    if (shortest <= 60 || next - start.getTime() > YEAR_MS) break;
  }
  shortestCache.set(key, shortest);
  return shortest;
}

/**
 * Runs active at once: 1 unless `concurrencyPolicy: Allow`, then ceil(deadline / shortest
 * interval). Allow without `activeDeadlineSeconds` is refused by the config checks (unbounded);
 * it counts as 2 here.
 */
export function overlappingRuns(svc: WorkloadConfig): number {
  if (svc.cron?.concurrencyPolicy !== "Allow" || !svc.schedule) return 1;
  const deadline = svc.cron.activeDeadlineSeconds;
  if (deadline === undefined) return 2;
  return Math.max(1, Math.ceil(deadline / shortestInterval(svc.schedule, svc.cron.timeZone)));
}
