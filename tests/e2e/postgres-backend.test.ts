/**
 * Pulumi's PostgreSQL DIY backend as the team backend, through the real engine against a real
 * PostgreSQL server (./postgres.ts): up, preview and refresh; two concurrent `up`s of one stack,
 * of which at most one proceeds while the other names the lock; a killed `up` and the documented
 * recovery (`pulumi cancel`, then `refresh --clear-pending-creates`); secrets encrypted in the
 * rows. Skips, loudly, without PostgreSQL's binaries.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  changes,
  DB_PASSWORD,
  describeEngine,
  explain,
  overrideOf,
  useProject,
  type UpResult,
} from "./helpers";
import { postgresBinaries, startPostgres, type Postgres } from "../../scripts/lib/postgres";
import { killTree, run } from "../../scripts/lib/run";

const bin = postgresBinaries();
if (!bin)
  console.warn(
    `\n${"!".repeat(100)}\n!! SKIPPED tests/e2e/postgres-backend: no PostgreSQL binaries (apt-get install postgresql)\n${"!".repeat(100)}\n`,
  );

const IMAGES = ["node:24.11.0-alpine3.22", "node:24.12.0-alpine3.22", "node:24.10.0-alpine3.22"];

describeEngine("the PostgreSQL backend", () => {
  if (!bin) {
    test.skip("PostgreSQL is not installed", () => {});
    return;
  }
  const project = useProject("postgres");
  let pg: Postgres;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    pg = await startPostgres(bin);
    project().env.PULUMI_BACKEND_URL = pg.url;
    const t = Date.now();
    await project().initStack("dev");
    timings.init = Date.now() - t;
  }, 120_000);
  afterAll(() => {
    pg?.stop();
    console.log(`postgres backend timings (ms): ${JSON.stringify(timings)}`);
  });

  /** The Platform component's URN: what a render-mode stack can refresh (nothing is read). */
  const platformUrn = async () => {
    const state = await project().exportState("dev");
    const urn = state.deployment.resources?.find((r) => r.type === "platform:index:Platform")?.urn;
    if (!urn) throw new Error("no Platform component in the state");
    return urn;
  };

  /** `pulumi refresh` of the Platform component (`extra` flags too): nothing to read back. */
  const refreshComponent = async (...extra: string[]) =>
    project().pulumi([
      "refresh",
      "--yes",
      ...extra,
      "--stack",
      "dev",
      "--target",
      await platformUrn(),
    ]);

  const setApiImage = (image: string) =>
    project().editStack("dev", (doc) => {
      overrideOf(doc, "services", "api").image = image;
    });

  test("up, preview and refresh go through it; the state is rows, the secrets encrypted", async () => {
    const p = project();
    let t = Date.now();
    await p.upOk("dev");
    timings.firstUp = Date.now() - t;
    t = Date.now();
    const preview = await p.preview("dev");
    timings.preview = Date.now() - t;
    expect(preview.code, explain(preview)).toBe(0);
    expect(changes(preview.steps)).toEqual([]);
    // A render-mode stack has no cluster to read objects back from: refresh the component.
    const refresh = await refreshComponent();
    expect(refresh.code, explain(refresh)).toBe(0);
    const keys = pg.sql("SELECT key FROM pulumi_state ORDER BY key").split("\n");
    expect(keys.some((k) => /stacks\/.*dev/.test(k))).toBe(true);
    expect(keys.some((k) => /history\//.test(k))).toBe(true);
    expect(
      pg.sql(`SELECT count(*) FROM pulumi_state WHERE data::text LIKE '%${DB_PASSWORD}%'`).trim(),
    ).toBe("0");
  });

  test("two concurrent ups of one stack: at most one proceeds, the other names the lock; the state is intact", async () => {
    const p = project();
    setApiImage(IMAGES[0]);
    const [a, b] = await Promise.all([p.up("dev"), p.up("dev")]);
    const ok = (r: UpResult) => r.code === 0 && r.summary?.result === "succeeded";
    // The DIY lock is check, write, recheck: nothing waits, and both may fail.
    expect([a, b].filter(ok).length).toBeLessThanOrEqual(1);
    for (const r of [a, b].filter((x) => !ok(x)))
      expect(`${r.stdout}\n${r.stderr}`).toMatch(/locked by/i);
    // Whatever happened, the state is whole and the next up converges.
    await p.upOk("dev");
    const after = await p.preview("dev");
    expect(changes(after.steps)).toEqual([]);
    const state = await p.exportState("dev");
    expect(state.deployment.resources?.length).toBeGreaterThan(10);
  });

  test("a killed up leaves a lock; pulumi cancel and refresh --clear-pending-creates recover", async () => {
    const p = project();
    setApiImage(IMAGES[1]);
    // SIGKILLed three seconds in, holding the lock, as when a runner dies. (SIGTERM would not
    // do: pulumi cancels gracefully and releases it.)
    const killed = await run("pulumi", ["up", "--yes", "--stack", "dev", "--non-interactive"], {
      cwd: p.dir,
      env: p.env,
      timeoutMs: 120_000,
      onSpawn: (pid) => setTimeout(() => killTree(pid, "SIGKILL"), 3_000),
    });
    expect(killed.signal, killed.stdout + killed.stderr).toBe("SIGKILL");
    // The lock it held outlives it: the next up is refused, naming the lock.
    const blocked = await p.up("dev");
    expect(blocked.code).not.toBe(0);
    expect(`${blocked.stdout}\n${blocked.stderr}`).toMatch(/locked by/i);
    const cancel = await p.pulumi(["cancel", "--yes", "--stack", "dev"]);
    expect(cancel.code, explain(cancel)).toBe(0);
    const refresh = await refreshComponent("--clear-pending-creates");
    expect(refresh.code, explain(refresh)).toBe(0);
    setApiImage(IMAGES[2]);
    const t = Date.now();
    await p.upOk("dev");
    timings.oneChangeUp = Date.now() - t;
  });
});
