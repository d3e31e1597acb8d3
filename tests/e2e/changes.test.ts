/**
 * Config changes against a deployed stack (staging, in render mode): each previews exactly the
 * diff it should, and equivalent quantities preview none.
 */
import { beforeAll, expect, test } from "vitest";
import {
  changes,
  DB_PASSWORD,
  describeEngine,
  explain,
  nameOf,
  overrideOf,
  readManifests,
  useProject,
  type PreviewResult,
  type StackDoc,
  type TempProject,
} from "./helpers";

type Tree = Record<string, unknown>;
const override = overrideOf;

/** Previews the stack with `mutate` applied to its file, then puts the file back. */
async function previewWith(
  p: TempProject,
  stack: string,
  mutate: (doc: StackDoc) => void,
): Promise<PreviewResult> {
  const restore = p.editStack(stack, mutate);
  try {
    return await p.preview(stack);
  } finally {
    restore();
  }
}

/** The detailed-diff paths of the step for `name`. */
function diffPaths(r: PreviewResult, name: string): string[] {
  const step = r.steps.find((s) => nameOf(s.urn) === name);
  return Object.keys(step?.detailedDiff ?? {}).sort();
}

describeEngine("config changes preview exactly their diff (staging)", () => {
  const project = useProject("changes");
  const stack = "staging";

  beforeAll(async () => {
    const p = project();
    await p.initStack(stack);
    await p.upOk(stack);
  });

  test("unchanged config previews no change", async () => {
    const r = await project().preview(stack);
    expect(r.code, explain(r)).toBe(0);
    expect(changes(r.steps)).toEqual([]);
  });

  test("replicas 2 -> 3: only the Deployment's spec.replicas", async () => {
    const r = await previewWith(project(), stack, (doc) => {
      override(doc, "services", "web").replicas = 3;
    });
    expect(r.code, explain(r)).toBe(0);
    expect(changes(r.steps)).toEqual(["update web-deploy"]);
    expect(diffPaths(r, "web-deploy")).toEqual(["spec.replicas"]);
  });

  test("replicas 1 -> 2: the Deployment, plus the PDB and spread that more than one replica brings", async () => {
    const r = await previewWith(project(), stack, (doc) => {
      override(doc, "services", "worker").replicas = 2;
    });
    expect(r.code, explain(r)).toBe(0);
    expect(changes(r.steps)).toEqual(["create worker-pdb", "update worker-deploy"]);
    expect(diffPaths(r, "worker-deploy")).toEqual([
      "spec.replicas",
      "spec.template.spec.topologySpreadConstraints",
    ]);
  });

  test("image: only the container's image", async () => {
    const r = await previewWith(project(), stack, (doc) => {
      override(doc, "services", "api").image = "node:24.12.0-alpine3.22";
    });
    expect(r.code, explain(r)).toBe(0);
    expect(changes(r.steps)).toEqual(["update api-deploy"]);
    expect(diffPaths(r, "api-deploy")).toEqual(["spec.template.spec.containers[0].image"]);
  });

  test("equivalent quantities (2048Mi vs 2Gi, 1 vs 1000m, ...) preview no change", async () => {
    const r = await previewWith(project(), stack, (doc) => {
      override(doc, "namespaces", "shop").quota = {
        "requests.cpu": "4000m", // 4
        "requests.memory": "8192Mi", // 8Gi
        "limits.cpu": "6000m", // 6
        "limits.memory": "12288Mi", // 12Gi
        pods: 30,
        "requests.storage": "40960Mi", // 40Gi
        persistentvolumeclaims: 4,
      };
      override(doc, "services", "api").resources = {
        requests: { cpu: "0.2", memory: "262144Ki", "ephemeral-storage": "65536Ki" }, // 200m, 256Mi, 64Mi
        limits: { cpu: "0.5", memory: "0.25Gi", "ephemeral-storage": "256Mi" }, // 500m, 256Mi
      };
      override(doc, "services", "postgres").storage = {
        size: "10240Mi", // 10Gi
        mountPath: "/var/lib/postgresql/data",
      };
      override(doc, "services", "backup").volumes = {
        backup: { mountPath: "/backup", emptyDir: { sizeLimit: "2048Mi" } }, // 2Gi
      };
    });
    expect(r.code, explain(r)).toBe(0);
    expect(changes(r.steps)).toEqual([]);
  });

  test("the provider also normalises quantities it is sent verbatim (a patch bypasses config canonicalisation)", async () => {
    const p = project();
    const deployment = readManifests(p.renderDir(stack)).get("Deployment/shop/api")?.object as
      { spec: { template: { spec: { containers: { resources: Tree }[] } } } } | undefined;
    expect(deployment, "the engine wrote Deployment/shop/api").toBeDefined();
    const container = structuredClone(deployment!.spec.template.spec.containers[0]);
    expect(container.resources).toMatchObject({ requests: { memory: "256Mi" } });
    container.resources = {
      requests: { cpu: "0.2", memory: "262144Ki", "ephemeral-storage": "0.0625Gi" },
      limits: { cpu: "0.5", memory: "0.25Gi", "ephemeral-storage": "262144Ki" },
    };
    const patch = { spec: { template: { spec: { containers: [container] } } } };
    const r = await previewWith(p, stack, (doc) => {
      override(doc, "services", "api").patches = [{ kind: "Deployment", patch }];
    });
    expect(r.code, explain(r)).toBe(0);
    expect(changes(r.steps)).toEqual([]);

    // The same patch with one amount really changed does diff, so the patch is applied.
    (container.resources.requests as Tree).memory = "262145Ki";
    const changed = await previewWith(p, stack, (doc) => {
      override(doc, "services", "api").patches = [{ kind: "Deployment", patch }];
    });
    expect(changed.code, explain(changed)).toBe(0);
    expect(changes(changed.steps)).toEqual(["update api-deploy"]);
  });

  test("rotating a secret: the env Secrets and a rollout of every service that reads it", async () => {
    const p = project();
    const setSecret = (value: string) =>
      p.pulumiOk(["config", "set", "--secret", "db-password", value, "--stack", stack]);
    await setSecret("rotated-Secret-Value-43");
    try {
      const r = await p.preview(stack);
      expect(r.code, explain(r)).toBe(0);
      // Updated in place (the provider's enableSecretMutable), not replaced: the Secrets keep
      // their names, and the checksum annotation rolls the pods that read them.
      // The migrate Job's template changes too, so it is replaced: it runs again.
      expect(changes(r.steps)).toEqual([
        "replace migrate-job",
        "update api-deploy",
        "update api-secret-env",
        "update backup-cron",
        "update backup-secret-env",
        "update migrate-secret-env",
        "update postgres-secret-env",
        "update postgres-sts",
        "update worker-deploy",
        "update worker-secret-env",
      ]);
      const annotation = "spec.template.metadata.annotations.checksum/secret-env";
      expect(diffPaths(r, "api-deploy")).toEqual([annotation]);
      expect(diffPaths(r, "postgres-sts")).toEqual([annotation]);
      expect(diffPaths(r, "backup-cron")).toEqual([`spec.jobTemplate.${annotation}`]);
    } finally {
      await setSecret(DB_PASSWORD);
    }
    const back = await p.preview(stack);
    expect(changes(back.steps)).toEqual([]);
  });

  test("rotating the checksum key (stack:init --rotate-checksum-key) rolls those pods once, touching no Secret", async () => {
    const p = project();
    const before = await p.checksumKey(stack);
    const init = await p.stackInit(["--stack", stack, "--rotate-checksum-key"]);
    expect(init.stdout).toContain(
      "stack-init: secretChecksumKey: replaced; every workload with secretEnv rolls its pods once at the next pulumi up",
    );
    try {
      expect(await p.checksumKey(stack)).not.toBe(before);
      const r = await p.preview(stack);
      expect(r.code, explain(r)).toBe(0);
      expect(changes(r.steps)).toEqual([
        "replace migrate-job",
        "update api-deploy",
        "update backup-cron",
        "update postgres-sts",
        "update worker-deploy",
      ]);
      const annotation = "spec.template.metadata.annotations.checksum/secret-env";
      expect(diffPaths(r, "api-deploy")).toEqual([annotation]);
    } finally {
      await p.pulumiOk([
        "config",
        "set",
        "--secret",
        "secretChecksumKey",
        before,
        "--stack",
        stack,
      ]);
    }
    // Run again without --rotate-checksum-key: the key is kept, nothing changes.
    const again = await p.stackInit(["--stack", stack]);
    expect(again.stdout).toContain("stack-init: secretChecksumKey: set already (kept)");
    expect(changes((await p.preview(stack)).steps)).toEqual([]);
  });

  test("control: a quantity that is not equivalent does preview a change", async () => {
    const r = await previewWith(project(), stack, (doc) => {
      override(doc, "services", "backup").volumes = {
        backup: { mountPath: "/backup", emptyDir: { sizeLimit: "2049Mi" } },
      };
    });
    expect(r.code, explain(r)).toBe(0);
    expect(changes(r.steps)).toEqual(["update backup-cron"]);
    expect(diffPaths(r, "backup-cron")).toContain(
      "spec.jobTemplate.spec.template.spec.volumes[1].emptyDir.sizeLimit",
    );
  });
});
