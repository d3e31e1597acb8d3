/**
 * The fuzzing gate, pure path: generated stack configs (tests/helpers/config-arbitrary.ts, hostile
 * shapes included) through parse -> plan -> capacity. Never an internal error; every rejection
 * names a key path; every object of an accepted config passes the Kubernetes OpenAPI schema
 * (kubernetes-models, an oracle independent of the checks under test). The seed is fixed
 * (FUZZ_SEED overrides it, FUZZ_RUNS the count) and a failure prints the config.
 */
import fc from "fast-check";
import { expect, test } from "vitest";
import type { Manifest } from "../components/context";
import { planCapacity } from "../platform/capacity/capacity";
import { ConfigError, parsePlatformConfig } from "../platform/config";
import { planPlatform } from "../platform/plan";
import { stackConfig } from "./helpers/config-arbitrary";
import { validateAgainstSchema, type K8sObject } from "./helpers/manifests";

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

/** A problem starts with the config key it is about: `services.web.ports`, `namespaces.shop: ...`. */
const KEY_PATH = /^[a-z][\w-]*(\.[^\s:]+)*(\[\d+\])*(: | )/;

test(`${RUNS} generated stack configs: no internal error, rejections name a key, accepted objects are valid`, async () => {
  const figures = { accepted: 0, rejected: 0, objects: 0 };
  await fc.assert(
    fc.asyncProperty(stackConfig, async (raw) => {
      let objects: Manifest[];
      try {
        const plan = planPlatform(parsePlatformConfig(raw), "fuzz");
        planCapacity(plan.config, plan);
        objects = [
          ...Object.values(plan.tenants).flat(),
          ...Object.values(plan.workloads).flat(),
          ...plan.cluster,
        ];
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e; // an internal error fails the gate
        for (const p of e.problems)
          expect(p, "a problem that names no config key").toMatch(KEY_PATH);
        figures.rejected++;
        return;
      }
      figures.accepted++;
      figures.objects += objects.length;
      for (const m of objects) await validateAgainstSchema(m as unknown as K8sObject);
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  console.log(
    `fuzz (seed ${SEED}): ${RUNS} configs, ${figures.accepted} accepted (${figures.objects} objects), ${figures.rejected} rejected`,
  );
  // The generator must exercise both sides.
  expect(figures.accepted).toBeGreaterThan(RUNS / 10);
  expect(figures.rejected).toBeGreaterThan(RUNS / 10);
}, 300_000);
