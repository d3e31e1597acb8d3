import * as pulumi from "@pulumi/pulumi";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { runUnderMocks } from "../scripts/lib/mock-run";
import { PROJECT_DIR } from "../scripts/lib/stack-files";

test("a bad stack config fails with one error listing every problem and registers zero resources", async () => {
  const dir = mkdtempSync(join(tmpdir(), "bad-config-"));
  const stackFile = join(dir, "Pulumi.broken.yaml");
  writeFileSync(
    stackFile,
    [
      "config:",
      "  platform:tier: dev",
      "  platform:cluster: { cloud: kind, name: kind-dev }",
      "  platform:overides: {}",
      "  platform:overrides:",
      "    services:",
      "      api:",
      "        resources: { requests: { cpu: 10 cores } }",
      "        replicsa: 3",
      "",
    ].join("\n"),
  );

  await expect(
    runUnderMocks({
      projectDir: PROJECT_DIR,
      stack: "broken",
      stackFile,
      fillMissingSecrets: true,
    }),
  ).rejects.toThrowError(
    [
      "Invalid stack configuration (3 problems); nothing was created:",
      '  - services.api.resources.requests.cpu: "10 cores" is not a Kubernetes quantity (examples: 500m, 2)',
      '  - services.api.replicsa: unknown key (did you mean "replicas"?)',
      '  - overides: unknown config key (did you mean "overrides"?)',
    ].join("\n"),
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as { resources: Map<string, unknown> };
  expect(monitor.resources.size).toBe(0);
});
