/**
 * Suggested fixes fix: for generated namespaces over quota, every fix the capacity report
 * suggests for an error that can be applied to the config ("raise requests.cpu in namespace shop
 * to 6", "lower web replicas to 2", "lower api autoscale.max to 8", "set web
 * rollout.maxUnavailable to 1"), applied and planned again,
 * makes that finding go away and causes no new error. Own fixtures.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planCapacity, type CapacityFinding } from "../platform/capacity/capacity";
import { ConfigError, parsePlatformConfig } from "../platform/config";

type Raw = Record<string, unknown>;

const cpu = fc.integer({ min: 1, max: 20 }).map((n) => `${n * 100}m`);
const memory = fc.integer({ min: 1, max: 16 }).map((n) => `${n * 64}Mi`);
const resources = fc.record({ requests: fc.record({ cpu, memory }) });
const rollout = fc.constantFrom(
  { maxSurge: 1, maxUnavailable: 0 },
  { maxSurge: "25%", maxUnavailable: 0 },
  { maxSurge: 0, maxUnavailable: 1 },
  { maxSurge: 2, maxUnavailable: 1 },
);
const deployment = fc
  .record({
    kind: fc.constantFrom("web", "worker"),
    scale: fc.oneof(
      fc.record({ replicas: fc.integer({ min: 1, max: 6 }) }),
      fc.integer({ min: 1, max: 3 }).chain((min) =>
        fc.record({
          autoscale: fc.record({ min: fc.constant(min), max: fc.integer({ min, max: min + 8 }) }),
        }),
      ),
    ),
    rollout: fc.option(rollout, { nil: undefined }),
    resources,
  })
  .map(({ kind, scale, rollout: r, resources: res }): Raw => ({
    kind,
    namespace: "shop",
    image: "ghcr.io/acme/app:1.0.0",
    ...(kind === "web" ? { ports: { http: 8080 } } : {}),
    ...scale,
    ...(r ? { rollout: r } : {}),
    resources: res,
  }));
const services = fc
  .array(deployment, { minLength: 1, maxLength: 3 })
  .map((list) => Object.fromEntries(list.map((w, i) => [`svc${i}`, w])));
const quota = fc.record({
  "requests.cpu": fc.integer({ min: 1, max: 40 }).map((n) => `${n * 100}m`),
  "requests.memory": fc.integer({ min: 1, max: 40 }).map((n) => `${n * 128}Mi`),
  pods: fc.integer({ min: 1, max: 20 }),
});

function config(raw: Raw) {
  return parsePlatformConfig(raw as never);
}

/** The config with one fix applied, or undefined when the fix is not a config edit. */
function applyFix(raw: Raw, fix: string): Raw | undefined {
  const copy = structuredClone(raw) as {
    namespaces: Record<string, { quota: Record<string, unknown> }>;
    services: Record<string, Raw>;
  };
  const raise = /^raise (\S+) in namespace (\S+) to (\S+)$/.exec(fix);
  if (raise) {
    copy.namespaces[raise[2]].quota[raise[1]] = raise[3];
    return copy;
  }
  const lower = /^lower (\S+) (replicas|autoscale\.min|autoscale\.max) to (\d+)$/.exec(fix);
  if (lower) {
    const svc = copy.services[lower[1]];
    const n = Number(lower[3]);
    if (lower[2] === "replicas") svc.replicas = n;
    else svc.autoscale = { ...(svc.autoscale as Raw), [lower[2].split(".")[1]]: n };
    return copy;
  }
  const unavailable = /^set (\S+) rollout\.maxUnavailable to (\d+)$/.exec(fix);
  if (unavailable) {
    const svc = copy.services[unavailable[1]];
    svc.rollout = { ...(svc.rollout as Raw), maxUnavailable: Number(unavailable[2]) };
    return copy;
  }
  return undefined;
}

const idOf = (f: CapacityFinding) =>
  `${f.kind} ${f.namespace ?? ""} ${f.resource ?? ""} ${f.workload ?? ""}`;
/** The quota key a finding is about: a fix must not bring an error to a key that had none. */
const keyOf = (f: CapacityFinding) => `${f.namespace ?? ""} ${f.resource ?? f.kind}`;

describe("suggested fixes", () => {
  it.each(["staging", "prod"] as const)(
    "%s: each applicable fix of an error clears it and adds no error",
    (tier) => {
      let applied = 0;
      fc.assert(
        fc.property(services, quota, (svcs, q) => {
          const raw: Raw = {
            tier,
            cluster: { cloud: "eks", name: "fixes" },
            namespaces: { shop: { quota: q } },
            services: svcs,
          };
          const before = planCapacity(config(raw));
          const errors = before.findings.filter((f) => f.severity === "error");
          const failing = new Set(errors.map(keyOf));
          for (const finding of errors)
            for (const fix of finding.fixes) {
              const fixed = applyFix(raw, fix);
              if (!fixed) continue;
              let after;
              try {
                after = planCapacity(config(fixed));
              } catch (e) {
                if (e instanceof ConfigError)
                  throw new Error(`fix "${fix}" makes the config invalid: ${e.message}`, {
                    cause: e,
                  });
                throw e;
              }
              applied++;
              const remaining = after.findings.filter((f) => f.severity === "error");
              expect(remaining.map(idOf), `after "${fix}"`).not.toContain(idOf(finding));
              expect(
                remaining.filter((f) => !failing.has(keyOf(f))).map((f) => f.message),
                `new errors after "${fix}" for ${finding.message}`,
              ).toEqual([]);
            }
        }),
        { numRuns: 300, seed: 20261202 },
      );
      expect(applied).toBeGreaterThan(50);
    },
    120_000,
  );
});
