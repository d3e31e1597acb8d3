/**
 * The end-to-end checks every sample stack must pass under mocks. Each stack has its own test
 * file because Pulumi mocks are process-global and the program runs once per process.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, test } from "vitest";
import { podSecurityViolations, podSpecOf, podTemplateOf } from "../../policy/pod-security";
import {
  runUnderMocks,
  type CapturedResource,
  type MockRunResult,
} from "../../scripts/lib/mock-run";
import { PROJECT_DIR } from "../../scripts/lib/stack-files";
import {
  countByKind,
  isSecretWrapper,
  kubernetesObjects,
  validateAgainstSchema,
  type K8sObject,
} from "./manifests";

/** A value only the secret config key holds; it must never appear outside a secret. */
export const SENTINEL = "s3ntinel-Secret-Value-42";
/** The stack's checksum key under mocks: it keys the annotations and must appear nowhere. */
const CHECKSUM_KEY = "s3ntinel-checksum-key-0123456789abcdefghijk";

function plainStringsContaining(v: unknown, needle: string, path = ""): string[] {
  if (isSecretWrapper(v)) return [];
  if (typeof v === "string") return v.includes(needle) ? [path] : [];
  if (Array.isArray(v))
    return v.flatMap((x, i) => plainStringsContaining(x, needle, `${path}[${i}]`));
  if (v && typeof v === "object")
    return Object.entries(v).flatMap(([k, x]) => plainStringsContaining(x, needle, `${path}.${k}`));
  return [];
}

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

export interface StackExpectations {
  readonly kinds: Record<string, number>;
  readonly extra?: (run: () => MockRunResult, objects: () => K8sObject[]) => void;
}

export function describeStack(stack: string, expected: StackExpectations): void {
  describe(`stack ${stack} under mocks`, () => {
    let run: MockRunResult;
    let objects: K8sObject[];
    beforeAll(async () => {
      run = await runUnderMocks({
        projectDir: PROJECT_DIR,
        stack,
        extraConfig: {
          "platform:db-password": SENTINEL,
          "platform:secretChecksumKey": CHECKSUM_KEY,
        },
        extraSecretKeys: ["platform:db-password", "platform:secretChecksumKey"],
      });
      objects = kubernetesObjects(run.resources);
    });

    test("emits exactly the expected kinds and counts", () => {
      expect(countByKind(objects)).toEqual(expected.kinds);
    });

    test("every object validates against the Kubernetes OpenAPI schema", async () => {
      for (const o of objects) {
        await expect(
          validateAgainstSchema(o),
          `${o.kind}/${o.metadata.name}`,
        ).resolves.toBeUndefined();
      }
    });

    test("every pod template meets Pod Security restricted with a numeric UID", () => {
      const pods = objects
        .map((o) => [o, podSpecOf(o)] as const)
        .filter(([, s]) => s !== undefined);
      expect(pods.length).toBeGreaterThan(0);
      for (const [o, spec] of pods) {
        expect(podSecurityViolations(spec!), `${o.kind}/${o.metadata.name}`).toEqual([]);
      }
    });

    test("every Kubernetes resource uses the stack's one provider and is parented by a platform component", () => {
      const providers = run.resources.filter((r) => r.type === "pulumi:providers:kubernetes");
      expect(providers).toHaveLength(1);
      const k8s = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
      for (const r of k8s) {
        expect(r.provider, r.name).toMatch(
          new RegExp(`pulumi:providers:kubernetes::${stack}-k8s::${stack}-k8s-id$`),
        );
        // URNs carry every ancestor's type, as the engine's do: Platform[$component]$<type>.
        expect(r.urn.split("::")[2], r.urn).toMatch(
          /^platform:index:Platform(\$platform:(tenancy|workloads|images):[A-Za-z]+)?\$kubernetes:/,
        );
      }
    });

    test("every URN is the one the SDK derives from the resource's parent, up to the root", async () => {
      const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
      for (const r of run.resources) {
        expect(await valueOf(pulumi.createUrn(r.name, r.type, r.parent)), r.urn).toBe(r.urn);
        // Walking the parents reaches a parentless resource; their types are the URN's chain.
        const chain: string[] = [];
        for (
          let p: CapturedResource | undefined = r;
          p;
          p = p.parent ? byUrn.get(p.parent) : undefined
        ) {
          chain.unshift(p.type);
          if (p.parent) expect(byUrn.has(p.parent), `parent of ${p.urn}`).toBe(true);
        }
        expect(r.urn).toBe(`urn:pulumi:${stack}::platform::${chain.join("$")}::${r.name}`);
      }
    });

    test("secret values and the checksum key never appear in plain inputs", () => {
      const leaks = run.resources.flatMap((r) =>
        [SENTINEL, CHECKSUM_KEY].flatMap((needle) =>
          plainStringsContaining(r.inputs, needle).map((p) => `${r.name}${p}`),
        ),
      );
      expect(leaks).toEqual([]);
      // The pod templates carry the keyed checksum of the secret values instead.
      const sums = objects.flatMap((o) => {
        const meta = podTemplateOf(o)?.metadata as { annotations?: Record<string, unknown> };
        const sum = meta?.annotations?.["checksum/secret-env"];
        return typeof sum === "string" ? [sum] : [];
      });
      expect(sums.length).toBeGreaterThan(0);
      for (const sum of sums) expect(sum).toMatch(/^[0-9a-f]{64}$/);
      // ...and they do reach the Secrets, wrapped as secrets.
      const secrets = run.resources.filter((r) => r.type === "kubernetes:core/v1:Secret");
      expect(secrets.length).toBeGreaterThan(0);
      for (const s of secrets) expect(isSecretWrapper(s.inputs.stringData)).toBe(true);
    });

    expected.extra?.(
      () => run,
      () => objects,
    );
  });
}
