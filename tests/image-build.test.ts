import { describe, expect, test } from "vitest";
import { registered, valueOf } from "./helpers/mocks";
import * as c from "../components";
import * as p from "../platform";
import { waitForRegistrations } from "../scripts/lib/mock-run";

describe("a service whose image is built", () => {
  test("builds with @pulumi/docker and runs the pushed digest, not the tag", async () => {
    registered.length = 0;
    const config = p.parsePlatformConfig({
      tier: "prod",
      cluster: { cloud: "gke", name: "c" },
      namespaces: { shop: {} },
      services: {
        api: {
          kind: "worker",
          namespace: "shop",
          image: {
            build: {
              repository: "ghcr.io/acme/api",
              context: "./api",
              args: { NODE_ENV: "production" },
            },
          },
          resources: { requests: { cpu: "100m", memory: "128Mi" } },
        },
      },
    });
    const platform = new p.Platform("prod", { config, project: "shop" });
    await waitForRegistrations();

    const build = registered.find((r) => r.type === "docker:index/image:Image")!;
    expect(build.name).toBe("api-build");
    expect(build.inputs).toMatchObject({
      imageName: "ghcr.io/acme/api:test",
      build: { context: "./api", args: { NODE_ENV: "production" } },
    });
    const digest = `ghcr.io/acme/api@sha256:${"b".repeat(64)}`;
    const deploy = registered.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
    expect(deploy.inputs.spec.template.spec.containers[0].image).toBe(digest);
    expect(await valueOf(platform.images)).toEqual({ api: digest });
  });

  test("an Image takes exactly one of reference or build", () => {
    expect(() => new c.Image("bad", {})).toThrowError(
      "Image bad: give exactly one of reference or build",
    );
  });
});
