/**
 * The engine benchmark's programs (`scripts/bench-engine.ts --program`) register the same
 * Kubernetes objects as the real program, through the real engine: the floor each as a raw
 * resource, `batched:N` in yaml/v2 ConfigGroups that the provider expands. Without this the
 * benchmark's side-by-side figures would compare different work.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { benchIndexSource, type BenchProgram } from "../../scripts/lib/bench-variants";
import {
  syntheticApplication,
  syntheticCluster,
  writeApplicationFiles,
} from "../../scripts/lib/synthetic";
import { describeEngine, explain, isKubernetesObject, typeOf, useProject } from "./helpers";

const SERVICES = 5;
const GROUP_TYPE = "kubernetes:yaml/v2:ConfigGroup";

describeEngine("bench-engine's programs", () => {
  const project = useProject("bench-programs");

  /** Previews a new stack with `program` as index.ts: its objects by identity, and its groups. */
  async function previewWith(program: BenchProgram) {
    const p = project();
    const stack = program.replace(/[^a-z0-9]/g, "-");
    const index = join(p.dir, "index.ts");
    const real = readFileSync(index, "utf8");
    p.writeStack(stack, {
      config: {
        "platform:tier": "dev",
        "platform:cluster": syntheticCluster(SERVICES, p.renderDir(stack)),
        "platform:namespaces": {},
        "platform:services": {},
        "platform:applicationFiles": ["apps"],
      },
    });
    await p.pulumiOk(["stack", "init", stack], 60_000);
    if (program !== "components") writeFileSync(index, benchIndexSource(program));
    try {
      const r = await p.preview(stack);
      expect(r.code, explain(r)).toBe(0);
      const objects = new Map<string, unknown>();
      let groups = 0;
      for (const s of r.steps) {
        if (typeOf(s.urn) === GROUP_TYPE) groups++;
        else if (isKubernetesObject(s.urn)) {
          const inputs = s.newState?.inputs as {
            apiVersion: string;
            kind: string;
            metadata: { namespace?: string; name: string };
          };
          const { apiVersion, kind, metadata } = inputs;
          objects.set(`${apiVersion} ${kind} ${metadata.namespace ?? ""}/${metadata.name}`, inputs);
        }
      }
      return { objects, groups };
    } finally {
      writeFileSync(index, real);
    }
  }

  test("floor and batched:2 preview exactly the objects the components do, batched in groups", async () => {
    writeApplicationFiles(join(project().dir, "apps"), syntheticApplication(SERVICES));
    const components = await previewWith("components");
    const floor = await previewWith("floor");
    const batched = await previewWith("batched:2");

    // 5 services in one namespace: the namespace's objects plus each service's.
    expect(components.objects.size).toBeGreaterThan(SERVICES * 4);
    expect(components.groups).toBe(0);
    expect([...floor.objects.keys()].sort()).toEqual([...components.objects.keys()].sort());
    expect([...batched.objects.keys()].sort()).toEqual([...components.objects.keys()].sort());
    for (const [key, inputs] of components.objects) {
      expect(floor.objects.get(key), key).toEqual(inputs);
      expect(batched.objects.get(key), key).toEqual(inputs);
    }
    // One group for the cluster's and tenants' objects, then one per two workloads.
    expect(batched.groups).toBe(1 + Math.ceil(SERVICES / 2));
    expect(floor.groups).toBe(0);
  }, 600_000);
});
