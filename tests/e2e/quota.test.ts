/**
 * A quota overflow through the real engine: preview fails with the capacity planner's table
 * before anything is registered, and neither preview nor up touches state or manifests.
 */
import { beforeAll, expect, test } from "vitest";
import {
  changes,
  describeEngine,
  errorDiagnostics,
  explain,
  hashTree,
  overrideOf,
  useProject,
  type StackDoc,
} from "./helpers";

const stack = "dev";

/** dev's quota has requests.cpu 2; api asks 200m a replica, so 20 replicas need 4. */
function overflow(doc: StackDoc): void {
  overrideOf(doc, "services", "api").replicas = 20;
}

describeEngine("quota overflow through the engine (dev)", () => {
  const project = useProject("quota");
  let stateBefore: unknown;
  let filesBefore: string;

  beforeAll(async () => {
    const p = project();
    await p.initStack(stack);
    await p.upOk(stack);
    stateBefore = (await p.exportState(stack)).deployment.resources;
    filesBefore = hashTree(p.renderDir(stack));
  });

  test("preview fails with the capacity table and plans no change", async () => {
    const p = project();
    const restore = p.editStack(stack, overflow);
    try {
      const r = await p.preview(stack);
      expect(r.code, explain(r)).not.toBe(0);
      const errors = errorDiagnostics(r.doc).join("\n");
      expect(errors).toContain("Capacity check failed");
      expect(errors).toContain("nothing was created");
      expect(errors).toMatch(/namespace\s+resource\s+quota\s+steady\s+peak\s+over by\s+problem/);
      // 20 × 200m for api plus 600m for the rest, against a quota of 2.
      expect(errors).toMatch(
        /shop\s+requests\.cpu\s+2\s+4600m\s+\S+\s+2600m\s+steady use over quota/,
      );
      expect(errors).toContain("Fixes:");
      // The program stopped before registering anything, so nothing is planned for deletion.
      expect(changes(r.steps).filter((c) => !c.startsWith("same"))).toEqual([]);
    } finally {
      restore();
    }
  });

  test("up fails the same way and leaves state and manifests untouched", async () => {
    const p = project();
    const restore = p.editStack(stack, overflow);
    try {
      const r = await p.up(stack);
      expect(r.code, explain(r)).not.toBe(0);
      expect(errorDiagnostics(r.doc, r.events).join("\n"), explain(r)).toContain(
        "Capacity check failed",
      );
    } finally {
      restore();
    }
    expect((await p.exportState(stack)).deployment.resources).toEqual(stateBefore);
    expect(hashTree(p.renderDir(stack))).toBe(filesBefore);
  });

  test("with the config fixed, a preview shows nothing to do", async () => {
    const r = await project().preview(stack, {});
    expect(r.code, explain(r)).toBe(0);
    expect(changes(r.steps)).toEqual([]);
  });
});
