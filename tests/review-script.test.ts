/**
 * Review stacks (issue 16), the script's decisions (scripts/lib/review.ts) and its arguments
 * (scripts/review.ts): which services a pull request changes, what the other stacks reserve of
 * the pools, the review stack's file, which stacks the sweep destroys. Own fixtures.
 */
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { readStack } from "../scripts/lib/stack-view";
import {
  poolUse,
  reservedRoom,
  reviewComment,
  reviewSelection,
  reviewStackText,
  sweepDecisions,
} from "../scripts/lib/review";
import { parseReviewArgs } from "../scripts/review";
import { UsageError } from "../scripts/lib/cli";

const project = (api = "ghcr.io/acme/api:1", namespaces = "shop: {}") => `name: platform
runtime: nodejs
config:
  platform:namespaces:
    value:
      ${namespaces}
  platform:services:
    value:
      web: { kind: web, namespace: shop, image: ghcr.io/acme/web:1, dependencies: [api] }
      api: { kind: web, namespace: shop, image: ${api} }
      report: { kind: worker, namespace: shop, image: ghcr.io/acme/report:1 }
`;
const stackFile = (extra = "") => `config:
  platform:tier: dev
  platform:cluster: { cloud: kind, name: c }
  platform:overrides:
    services:
      report: { replicas: 2 }${extra}
`;
const view = (projectText: string, stackText = stackFile()) =>
  readStack(projectText, "dev", stackText);

describe("which services a pull request changes", () => {
  test("a service's definition, in Pulumi.yaml or by the stage's overrides", () => {
    expect(
      reviewSelection(["Pulumi.yaml"], view(project()), view(project("ghcr.io/acme/api:2"))),
    ).toEqual({
      services: ["api"],
      why: "changed: api (with what they depend on)",
    });
    const overridden = stackFile("\n      web: { replicas: 3 }");
    expect(
      reviewSelection(["Pulumi.dev.yaml"], view(project()), view(project(), overridden)),
    ).toEqual({
      services: ["web"],
      why: "changed: web (with what they depend on)",
    });
  });

  test("the program, the stage's namespaces or no base file: the whole app", () => {
    const same = view(project());
    expect(reviewSelection(["README.md", "components/worker.ts"], same, same)).toEqual({
      why: "the program changed (components/worker.ts): the whole app",
    });
    expect(
      reviewSelection(
        ["Pulumi.yaml"],
        same,
        view(project(undefined, "shop: { labels: { a: b } }")),
      ),
    ).toEqual({ why: "dev's namespaces, cluster or defaults changed: the whole app" });
    expect(reviewSelection(["Pulumi.dev.yaml"], undefined, same)).toEqual({
      why: "dev has no stack file at the base: the whole app",
    });
  });

  test("docs and tools only: nothing to review", () => {
    const same = view(project());
    expect(reviewSelection(["README.md", "scripts/promote.ts"], same, same)).toEqual({
      services: [],
      why: "no service changed",
    });
  });
});

describe("what the other stacks reserve of the pools", () => {
  const pools = {
    general: {
      count: 2,
      allocatable: { cpu: "4", memory: "8Gi", pods: 110 },
      overhead: { cpu: "1", memory: "2Gi", pods: 10 },
    },
  };
  const pool = { pool: "general", nodes: 2, nodesUsed: 1, cpu: 0.25, memory: 0.5, pods: 0.1 };

  test("the requested quantities summed; old outputs by their ratios of the usable room", () => {
    const dev = poolUse(
      { pools: [{ ...pool, used: { cpu: "1500m", memory: "1Gi", pods: "7" } }] },
      pools,
    );
    const old = poolUse({ pools: [pool] }, pools);
    expect(dev).toEqual({ general: { cpu: 1500, memory: 2 ** 30, pods: 7 } });
    // usable: 2 × 3 cores, 2 × 6Gi, 2 × 100 pods
    expect(old).toEqual({ general: { cpu: 1500, memory: 6 * 2 ** 30, pods: 20 } });
    expect(reservedRoom([dev, old])).toEqual({ general: { cpu: "3", memory: "7Gi", pods: 27 } });
    expect(reservedRoom([])).toEqual({});
  });
});

describe("the review stack's file", () => {
  const base = `# dev: a kind cluster
encryptionsalt: v1:abc:def
config:
  platform:tier: dev
  platform:release: 0123456789abcdef0123456789abcdef01234567
  platform:db-password:
    secure: v1:xyz
`;
  test("the base stage's file, its secrets as they are, with platform:review and no release pin", () => {
    const text = reviewStackText(base, "dev", "platform", {
      pullRequest: 12,
      services: ["api"],
      reserved: { general: { cpu: "1500m", memory: "1Gi", pods: 7 } },
    });
    expect(text.split("\n")[0]).toBe(
      "# Written by npm run review: the review stack of pull request #12, derived from Pulumi.dev.yaml. Not committed (.gitignore); rewritten on every run.",
    );
    expect(parse(text)).toEqual({
      encryptionsalt: "v1:abc:def",
      config: {
        "platform:tier": "dev",
        "platform:db-password": { secure: "v1:xyz" },
        "platform:review": {
          pullRequest: 12,
          services: ["api"],
          reserved: { general: { cpu: "1500m", memory: "1Gi", pods: 7 } },
        },
      },
    });
  });

  test("a base file that is not YAML is named", () => {
    expect(() => reviewStackText("config: [", "dev", "platform", { pullRequest: 1 })).toThrow(
      /^Pulumi\.dev\.yaml: /,
    );
  });
});

describe("which review stacks the sweep destroys", () => {
  const now = new Date("2026-12-10T12:00:00Z");
  const day = 86_400_000;
  const stacks = [
    { name: "dev", lastUpdate: "2026-12-01T00:00:00Z" },
    { name: "organization/platform/pr-3", lastUpdate: "2026-12-10T08:00:00Z" },
    { name: "pr-5", lastUpdate: "2026-12-06T12:00:00Z" },
    { name: "pr-7", lastUpdate: "2026-12-01T00:00:00Z", updateInProgress: true },
    { name: "pr-9" },
  ];
  test("idle past the ttl, never updated; a stack being updated stays; others are not review stacks", () => {
    expect(sweepDecisions(stacks, now, 3 * day)).toEqual([
      { stack: "pr-3", pullRequest: 3, destroy: false, reason: "updated 4h ago (ttl 3d)" },
      { stack: "pr-5", pullRequest: 5, destroy: true, reason: "not updated for 4d (ttl 3d)" },
      { stack: "pr-7", pullRequest: 7, destroy: false, reason: "an update is in progress" },
      { stack: "pr-9", pullRequest: 9, destroy: true, reason: "never updated" },
    ]);
  });
  test("with the open pull requests known, a closed one's stack goes however recent", () => {
    expect(
      sweepDecisions(stacks.slice(0, 3), now, 7 * day, new Set([5])).map((d) => [
        d.stack,
        d.destroy,
        d.reason,
      ]),
    ).toEqual([
      ["pr-3", true, "pull request #3 is closed"],
      ["pr-5", false, "updated 4d ago (ttl 7d)"],
    ]);
  });
});

test("the pull request comment lists the hosts and the services", () => {
  expect(reviewComment(12, ["shop-pr12.dev.example.com"], ["web", "api"], "changed: web")).toBe(
    "### Review stack `pr-12`\n\n- https://shop-pr12.dev.example.com\n\nRuns `web`, `api` (changed: web). Destroyed when the pull request closes, or by the sweep when idle.\n",
  );
});

describe("npm run review arguments", () => {
  const usage = (argv: string[]) => {
    try {
      parseReviewArgs(argv);
    } catch (e) {
      if (e instanceof UsageError) return e.message.split("\n")[0];
      throw e;
    }
    throw new Error("expected a usage error");
  };
  test("good ones", () => {
    const now = new Date("2026-12-03T00:00:00Z");
    expect(
      parseReviewArgs(["up", "--pr", "12", "--base", "abc", "--", "--policy-pack", "policy"], now),
    ).toMatchObject({
      command: "up",
      pullRequest: 12,
      base: "abc",
      all: false,
      pulumiArgs: ["--policy-pack", "policy"],
    });
    expect(
      parseReviewArgs(["preview", "--pr", "3", "--services", "web, api"], now).services,
    ).toEqual(["web", "api"]);
    expect(
      parseReviewArgs(["sweep", "--open", "3,7", "--now", "2026-12-10T00:00:00Z"], now),
    ).toMatchObject({
      command: "sweep",
      open: new Set([3, 7]),
      now: new Date("2026-12-10T00:00:00Z"),
    });
    expect(parseReviewArgs(["sweep", "--open", ""], now).open).toEqual(new Set());
  });
  test("bad ones are named", () => {
    expect(usage([])).toBe("no command: give one of up, preview, destroy, sweep");
    expect(usage(["deploy"])).toBe(
      'unknown command "deploy": give one of up, preview, destroy, sweep',
    );
    expect(usage(["up", "--base", "x"])).toBe("up needs --pr <pull request number>");
    expect(usage(["up", "--pr", "12a", "--all"])).toBe(
      '--pr "12a": give the pull request\'s number (e.g. --pr 12)',
    );
    expect(usage(["up", "--pr", "1"])).toBe(
      "up: give one of --base <rev>, --all or --services a,b",
    );
    expect(usage(["up", "--pr", "1", "--all", "--services", "web"])).toBe(
      "up: give one of --base <rev>, --all or --services a,b",
    );
    expect(usage(["sweep", "--pr", "1"])).toBe("--pr is for up, preview and destroy");
    expect(usage(["destroy", "--pr", "1", "--all"])).toBe("--all is for up and preview");
    expect(usage(["sweep", "--open", "3,x"])).toBe('--open: "x" is not a pull request number');
    expect(usage(["sweep", "--now", "tomorrow"])).toBe(
      '--now "tomorrow": give a time such as 2026-12-03T10:00:00Z',
    );
    expect(usage(["up", "--pr", "1", "--services", "web,,api"])).toBe(
      '--services "web,,api": an empty item; give a comma-separated list',
    );
    expect(usage(["destroy", "--pr", "1", "--", "--yes"])).toBe(
      "pulumi arguments after -- are for up and preview",
    );
    expect(usage(["up", "--pr", "1", "--al"])).toMatch(
      /^Unknown option '--al'.*\(did you mean --all\?\)$/,
    );
  });
});
