import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError } from "./args";

/**
 * @pulumi/docker, loaded only to build an image: it is an optional peer dependency, so programs
 * that run pinned references need neither the package nor its provider plugin.
 */
function dockerPackage(component: string): typeof docker {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first build only
    return require("@pulumi/docker") as typeof docker;
  } catch {
    throw new ArgumentError(component, [
      "build: needs the @pulumi/docker package; install it (npm install @pulumi/docker) or give a pinned reference",
    ]);
  }
}

export interface ImageBuildArgs {
  /** Repository to push to, e.g. "ghcr.io/acme/api". */
  readonly repository: string;
  /** Build context directory. */
  readonly context: string;
  /** @default "<context>/Dockerfile" */
  readonly dockerfile?: string;
  readonly args?: Readonly<Record<string, string>>;
  /** @default the builder's platform */
  readonly platform?: string;
}

export interface ImageArgs {
  /**
   * A pinned reference: `repo:tag` or, the normal path for promoted releases, `repo@sha256:...`.
   * Excludes `build`.
   */
  readonly reference?: string;
  /** Build and push with @pulumi/docker; the pushed digest is what workloads run. Excludes `reference`. */
  readonly build?: ImageBuildArgs;
}

/**
 * A container image for a workload: a pinned reference passed through, or a build whose
 * registry digest (`repo@sha256:...`) feeds the workload, so pods always run exactly what was
 * built and promotion can copy that digest to the next environment.
 */
export class Image extends pulumi.ComponentResource {
  /** The reference pods should run. */
  public readonly ref: pulumi.Output<string>;

  constructor(name: string, args: ImageArgs, opts: pulumi.ComponentResourceOptions = {}) {
    if ((args.reference === undefined) === (args.build === undefined)) {
      throw new Error(`Image ${name}: give exactly one of reference or build`);
    }
    // Checked before anything is registered.
    const dockerImage = args.build ? dockerPackage(`Image "${name}"`).Image : undefined;
    super("platform:images:Image", name, {}, opts);
    if (args.build && dockerImage) {
      const b = args.build;
      const built = new dockerImage(
        `${name}-build`,
        {
          // Tagged per stack; the digest, not the tag, is what the workload runs.
          imageName: `${b.repository}:${pulumi.getStack()}`,
          build: {
            context: b.context,
            ...(b.dockerfile ? { dockerfile: b.dockerfile } : {}),
            ...(b.args ? { args: { ...b.args } } : {}),
            ...(b.platform ? { platform: b.platform } : {}),
          },
        },
        { parent: this },
      );
      this.ref = built.repoDigest;
    } else {
      this.ref = pulumi.output(args.reference!);
    }
    this.registerOutputs({ ref: this.ref });
  }
}
