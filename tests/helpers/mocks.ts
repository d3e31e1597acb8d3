/**
 * Pulumi mocks for component tests: records every registered resource. Import this module
 * before any module that creates resources (mocks are process-global).
 */
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly provider: string | undefined;
}

export const registered: Registered[] = [];

void pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({
        type: args.type,
        name: args.name,
        inputs: args.inputs,
        provider: args.provider || undefined,
      });
      // A docker build reports the pushed digest, as the real provider does after pushing.
      const state =
        args.type === "docker:index/image:Image"
          ? {
              ...args.inputs,
              repoDigest: `${String(args.inputs.imageName).split(":")[0]}@sha256:${"b".repeat(64)}`,
            }
          : args.inputs;
      return { id: args.custom ? `${args.name}-id` : undefined, state };
    },
    call(args) {
      throw new Error(`unexpected call to ${args.token}`);
    },
  },
  "platform",
  "test",
  false,
);

/** Resolves an Output in a test. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Pulumi's internal view of a resource: its parent and options, for asserting on them. */
export function internals(r: pulumi.Resource): {
  parent: pulumi.Resource | undefined;
  protect: boolean | undefined;
} {
  const raw = r as unknown as { __parentResource?: pulumi.Resource; __protect?: boolean };
  return { parent: raw.__parentResource, protect: raw.__protect };
}
