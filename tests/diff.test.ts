import { execFile, execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import {
  describeChange,
  diffFields,
  diffRenders,
  formatDiffMarkdown,
  formatDiffText,
  MARKDOWN_LIMIT,
  type Obj,
  type Render,
} from "../scripts/lib/diff";
import { parseDiffArgs } from "../scripts/diff";
import { networkPolicyTraffic } from "../scripts/lib/network-traffic";
import { SAFE_CHANGES, safeChange } from "../scripts/lib/safe-changes";
import { PROJECT_DIR } from "../scripts/lib/stack-files";
import { commitAll } from "./helpers/git";

function deployment(name: string, over: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "shop", labels: { "app.kubernetes.io/name": name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { "app.kubernetes.io/name": name } },
      template: {
        spec: {
          containers: [{ name, image: `${name}:1`, resources: { requests: { cpu: "100m" } } }],
        },
      },
      ...over,
    },
  };
}

function renderOf(objects: Obj[], resources: Record<string, string> = {}): Render {
  return {
    objects: new Map(
      objects.map((o) => [`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, o]),
    ),
    resources,
  };
}

describe("field diffs", () => {
  test("list items with names are compared by name", () => {
    const before = {
      containers: [
        { name: "api", image: "a:1" },
        { name: "proxy", image: "p:1" },
      ],
    };
    const after = {
      containers: [
        { name: "proxy", image: "p:1" },
        { name: "api", image: "a:2" },
      ],
    };
    expect(diffFields(before, after)).toEqual([
      { path: "containers[api].image", before: "a:1", after: "a:2" },
    ]);
  });
});

describe("lists people can read", () => {
  const policy = (ingress: unknown[], egress: unknown[] = []): Obj => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "redis", namespace: "shop" },
    spec: {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "redis" } },
      policyTypes: ["Ingress", "Egress"],
      ingress,
      egress,
    },
  });
  const caller = (name: string, port: number, ns = "shop") => ({
    from: [
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": name } },
      },
    ],
    ports: [{ port, protocol: "TCP" }],
  });

  test("NetworkPolicy rules read as the traffic they allow: every peer, port and exception", () => {
    expect(
      networkPolicyTraffic(
        policy(
          [caller("web", 6379), { from: [{ namespaceSelector: {} }] }, {}],
          [
            {
              to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/16"] } }],
              ports: [
                { port: 443, protocol: "TCP" },
                { port: 8000, endPort: 8100 },
              ],
            },
            { to: [{ podSelector: {} }], ports: [{ port: 53, protocol: "UDP" }] },
          ],
        ),
      ),
    ).toEqual([
      "ingress from shop/web on 6379/TCP",
      "ingress from namespace * on any port",
      "ingress from anywhere on any port",
      "egress to 0.0.0.0/0 except 10.0.0.0/16 on 443/TCP, 8000-8100/TCP",
      "egress to shop/* on 53/UDP",
    ]);
  });

  test("two new callers of a service are two added lines, never truncated JSON", () => {
    const before = renderOf([policy([caller("web", 6379)])]);
    const after = renderOf([
      policy([caller("web", 6379), caller("queue-worker", 6379), caller("reports", 6379, "ops")]),
    ]);
    const text = formatDiffText(diffRenders(before, after), {
      stack: "prod",
      base: "main",
      tier: "prod",
    });
    expect(text).toBe(
      [
        "stack prod vs main: 0 added, 0 removed, 1 changed, 0 replaced",
        "~ NetworkPolicy/shop/redis",
        "    + ingress from shop/queue-worker on 6379/TCP",
        "    + ingress from ops/reports on 6379/TCP",
      ].join("\n"),
    );
    const md = formatDiffMarkdown(diffRenders(before, after), {
      stack: "prod",
      base: "main",
      tier: "prod",
    });
    expect(md).toContain("| `spec.ingress` | — | `ingress from shop/queue-worker on 6379/TCP` |");
    // Rules rewritten (two merged into one) with the same traffic: shown as the rules themselves.
    const merged = renderOf([
      policy([
        {
          from: [...caller("web", 6379).from, ...caller("queue-worker", 6379).from],
          ports: [{ port: 6379, protocol: "TCP" }],
        },
      ]),
    ]);
    const rewritten = diffRenders(
      renderOf([policy([caller("web", 6379), caller("queue-worker", 6379)])]),
      merged,
    );
    expect(rewritten[0].fields.map((f) => `${f.path} ${f.item?.op}`)).toEqual([
      "spec.ingress -",
      "spec.ingress -",
      "spec.ingress +",
    ]);
  });

  test("other lists without names: the items added and removed, in full", () => {
    const fields = diffFields(
      {
        tolerations: [
          { key: "a", operator: "Exists" },
          { key: "b", operator: "Exists" },
        ],
      },
      {
        tolerations: [
          { key: "b", operator: "Exists" },
          { key: "c", effect: "NoSchedule", operator: "Exists" },
        ],
      },
    );
    expect(fields.map(describeChange)).toEqual([
      ['- {"key":"a","operator":"Exists"}'],
      ['+ {"effect":"NoSchedule","key":"c","operator":"Exists"}'],
    ]);
    // Only the order changed: the list as a whole.
    expect(diffFields({ l: [{ a: 1 }, { b: 2 }] }, { l: [{ b: 2 }, { a: 1 }] })).toHaveLength(1);
  });

  test("changed text shows its changed lines; long values say how much is left out", () => {
    const conf = (port: number) =>
      ["server {", `  listen ${port};`, "  location / { root /srv; }", "}"].join("\n");
    expect(
      describeChange({ path: "data.default.conf", before: conf(8080), after: conf(9090) }),
    ).toEqual(["data.default.conf: 2 lines changed", "  -   listen 8080;", "  +   listen 9090;"]);
    const many = (n: number) => Array.from({ length: n }, (_, i) => `line ${i}`).join("\n");
    expect(describeChange({ path: "data.x", before: many(2), after: many(40) }, 3).at(-1)).toBe(
      "  (+35 more changed lines)",
    );
    const long = "x".repeat(1000);
    expect(
      describeChange({ path: "metadata.annotations.a", before: undefined, after: long }),
    ).toEqual([`metadata.annotations.a: (unset) → ${"x".repeat(400)}… (+600 more characters)`]);
  });
});

describe("object diffs", () => {
  test("image and replica changes are updates; a selector change is a replacement", () => {
    const base = renderOf([deployment("api"), deployment("web")]);
    const head = renderOf([
      deployment("api", {
        replicas: 3,
        template: {
          spec: {
            containers: [{ name: "api", image: "api:2", resources: { requests: { cpu: "100m" } } }],
          },
        },
      }),
      deployment("web", { selector: { matchLabels: { app: "web" } } }),
    ]);
    const changes = diffRenders(base, head);
    expect(changes.map((c) => [c.key, c.change, c.replace])).toEqual([
      ["Deployment/shop/api", "changed", []],
      ["Deployment/shop/web", "changed", ["spec.selector is immutable"]],
    ]);
    expect(changes[0].fields.map((f) => f.path)).toEqual([
      "spec.replicas",
      "spec.template.spec.containers[api].image",
    ]);
  });

  test("a rename is an added and a removed object, both flagged as replacement", () => {
    const changes = diffRenders(
      renderOf([deployment("api")]),
      renderOf([
        {
          ...deployment("api"),
          metadata: {
            name: "api-v2",
            namespace: "shop",
            labels: { "app.kubernetes.io/name": "api" },
          },
        },
      ]),
    );
    expect(changes.map((c) => [c.key, c.change, c.replace])).toEqual([
      ["Deployment/shop/api", "removed", ["renamed to Deployment/shop/api-v2"]],
      ["Deployment/shop/api-v2", "added", ["renamed from Deployment/shop/api"]],
    ]);
  });

  test("a changed Pulumi identity replaces even an unchanged object", () => {
    const key = "Deployment/shop/api";
    const changes = diffRenders(
      renderOf([deployment("api")], { [key]: "A$Deployment::api-deploy" }),
      renderOf([deployment("api", { replicas: 3 })], { [key]: "B$Deployment::api-deploy" }),
    );
    expect(changes[0].replace).toEqual([
      "Pulumi identity changed (A$Deployment::api-deploy → B$Deployment::api-deploy); add an alias to keep it",
    ]);
  });

  test("a grandparent component retyped replaces an object that is otherwise identical", () => {
    // Identities as the engine writes them: every ancestor's type, outermost first.
    const key = "Deployment/shop/api";
    const chain = "platform:workloads:WebService$kubernetes:apps/v1:Deployment::api-deploy";
    const changes = diffRenders(
      renderOf([deployment("api")], { [key]: `platform:index:Platform$${chain}` }),
      renderOf([deployment("api")], { [key]: `platform:index:Cluster$${chain}` }),
    );
    expect(changes).toEqual([
      {
        key,
        kind: "Deployment",
        change: "changed",
        fields: [],
        replace: [
          `Pulumi identity changed (platform:index:Platform$${chain} → platform:index:Cluster$${chain}); add an alias to keep it`,
        ],
      },
    ]);
    expect(formatDiffText(changes, { stack: "dev", base: "main", tier: "dev" })).toBe(
      [
        "stack dev vs main: 0 added, 0 removed, 1 changed, 1 replaced",
        "~ Deployment/shop/api",
        `    !! replace: Pulumi identity changed (platform:index:Platform$${chain} → platform:index:Cluster$${chain}); add an alias to keep it`,
      ].join("\n"),
    );
    // Same identities and objects: nothing to report.
    expect(
      diffRenders(
        renderOf([deployment("api")], { [key]: `platform:index:Platform$${chain}` }),
        renderOf([deployment("api")], { [key]: `platform:index:Platform$${chain}` }),
      ),
    ).toEqual([]);
  });

  test("a Job whose pod template changed re-runs: reported as such, not as a replacement", () => {
    const job = (image: string): Obj => ({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "migrate", namespace: "shop" },
      spec: { backoffLimit: 2, template: { spec: { containers: [{ name: "app", image }] } } },
    });
    const changes = diffRenders(renderOf([job("api:1")]), renderOf([job("api:2")]));
    expect(changes).toEqual([
      {
        key: "Job/shop/migrate",
        kind: "Job",
        change: "changed",
        fields: [
          { path: "spec.template.spec.containers[app].image", before: "api:1", after: "api:2" },
        ],
        replace: [],
        rerun: true,
      },
    ]);
    expect(formatDiffText(changes, { stack: "prod", base: "main", tier: "prod" })).toBe(
      [
        "stack prod vs main: 0 added, 0 removed, 1 changed, 0 replaced",
        "~ Job/shop/migrate",
        "    re-runs: the pod template changed, so the Job is replaced and runs again",
        "    spec.template.spec.containers[app].image: api:1 → api:2",
      ].join("\n"),
    );
    const md = formatDiffMarkdown(changes, { stack: "prod", base: "main", tier: "prod" });
    expect(md).toContain("> [!NOTE]\n> These Jobs run again");
    expect(md).not.toContain("CAUTION");
  });

  test("text report flags prod replacements as outages", () => {
    const changes = diffRenders(
      renderOf([deployment("web")]),
      renderOf([deployment("web", { selector: { matchLabels: { app: "web" } } })]),
    );
    const text = formatDiffText(changes, { stack: "prod", base: "main", tier: "prod" });
    expect(text.split("\n").slice(0, 3)).toEqual([
      "stack prod vs main: 0 added, 0 removed, 1 changed, 1 replaced",
      "~ Deployment/shop/web",
      "    !! REPLACE IN PROD (outage): spec.selector is immutable",
    ]);
  });
});

describe("markdown for PR comments", () => {
  test("stays under 60,000 characters for 5,000 changed objects, summarising instead of cutting an object", () => {
    const names = Array.from({ length: 5000 }, (_, i) => `svc-${i}`);
    const base = renderOf(names.map((n) => deployment(n)));
    const head = renderOf(
      names.map((n, i) =>
        deployment(n, i === 4999 ? { selector: { matchLabels: { x: "y" } } } : { replicas: 3 }),
      ),
    );
    const md = formatDiffMarkdown(diffRenders(base, head), {
      stack: "prod",
      base: "main",
      tier: "prod",
    });
    expect(md.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    expect(md.split("<details>").length).toBe(md.split("</details>").length);
    expect(md).toContain("- `Deployment/shop/svc-4999`: spec.selector is immutable");
    expect(md).toMatch(
      /…and \d+ more objects not shown in full: \d+ changed Deployment\. Run `npm run diff` locally for everything\.$/,
    );
  });

  test("a small change is shown in full", () => {
    const md = formatDiffMarkdown(
      diffRenders(renderOf([deployment("api")]), renderOf([deployment("api", { replicas: 5 })])),
      { stack: "dev", base: "main", tier: "dev" },
    );
    expect(md).toContain("| `spec.replicas` | `2` | `5` |");
    expect(md).not.toContain("not shown in full");
  });
});

describe("npm run diff", () => {
  test("usage errors", () => {
    expect(() => parseDiffArgs(["--stack", "prod"])).toThrowError("give --stack and --base");
    expect(() => parseDiffArgs(["--stack", "nope", "--base", "HEAD"])).toThrowError(
      "--stack nope: no Pulumi.nope.yaml here",
    );
    expect(() =>
      parseDiffArgs(["--stack", "prod", "--base", "HEAD", "--format", "html"]),
    ).toThrowError("--format html: expected text or markdown");
  });

  /**
   * A throwaway repository holding this project's program with the fixture app, so a test never
   * touches the real one and does not depend on the sample app.
   */
  function throwawayRepo(): string {
    const repo = mkdtempSync(join(tmpdir(), "diff-repo-"));
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], {
      cwd: PROJECT_DIR,
      encoding: "utf8",
    })
      .split("\n")
      .filter(Boolean);
    for (const f of files) {
      mkdirSync(dirname(join(repo, f)), { recursive: true });
      try {
        cpSync(join(PROJECT_DIR, f), join(repo, f));
      } catch {
        // Deleted in the working tree but still listed.
      }
    }
    // The app is the suite's own frozen copy of the sample (tests/fixtures/shop).
    for (const f of ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"])
      cpSync(join(PROJECT_DIR, "tests", "fixtures", "shop", f), join(repo, f));
    symlinkSync(join(PROJECT_DIR, "node_modules"), join(repo, "node_modules"), "dir");
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
        cwd: repo,
      });
    git("init", "-q");
    git("add", "-A");
    git("commit", "-qm", "base");
    return repo;
  }

  const diffIn = async (repo: string, ...args: string[]) =>
    (
      await promisify(execFile)(
        join(PROJECT_DIR, "node_modules", ".bin", "tsx"),
        [join(repo, "scripts", "diff.ts"), ...args],
        { cwd: repo },
      )
    ).stdout;

  test("diffs a working-tree change against a git ref, end to end", async () => {
    const repo = throwawayRepo();
    const prod = join(repo, "Pulumi.prod.yaml");
    writeFileSync(prod, readFileSync(prod, "utf8").replace("replicas: 3", "replicas: 5"));
    expect(await diffIn(repo, "--stack", "prod", "--base", "HEAD")).toBe(
      [
        "stack prod vs HEAD: 0 added, 0 removed, 1 changed, 0 replaced",
        // Two more worker pods (and a surge pod more): capacity before → after.
        "capacity, before → after:",
        "  quota shop limits.cpu (peak, of 24): 51% → 53%",
        "  quota shop limits.memory (peak, of 32Gi): 21% → 22%",
        "  quota shop pods (peak, of 80): 44% → 48%",
        "  quota shop requests.cpu (peak, of 12): 43% → 45%",
        "  quota shop requests.memory (peak, of 24Gi): 24% → 26%",
        "  pool general cpu (peak placement): 11% → 12%",
        "  pool general memory (peak placement): 3% → 4%",
        "services:",
        "  ~ shop/worker (changed)",
        "      replicas: 3 → 5",
        "objects:",
        "~ Deployment/shop/worker",
        "    spec.replicas: 3 → 5",
        "",
      ].join("\n"),
    );
  }, 60_000);

  test("the whole story of three new services (one public) in prod's Markdown diff", async () => {
    const repo = throwawayRepo();
    // Prices in prod (committed: the base has them too), so the diff has a cost delta.
    const prod = join(repo, "Pulumi.prod.yaml");
    writeFileSync(
      prod,
      readFileSync(prod, "utf8")
        .replace(
          "        overhead: { cpu: 400m, memory: 1Gi, pods: 8 }\n",
          "        overhead: { cpu: 400m, memory: 1Gi, pods: 8 }\n        price: { perNodeHour: 0.29 }\n",
        )
        .replace(
          "    clusterFit: enforce\n",
          "    clusterFit: enforce\n    prices: { currency: USD, loadBalancer: 18.25 }\n",
        ),
    );
    commitAll(repo, "prices");
    const digest = `@sha256:${"c".repeat(64)}`;
    const service = (name: string, kind: string, extra: string) =>
      [
        `      ${name}:`,
        `        kind: ${kind}`,
        "        namespace: shop",
        `        image: node:24.11.1-alpine3.22${digest}`,
        "        securityContext: { runAsUser: 1000, runAsGroup: 1000 }",
        "        resources:",
        "          requests: { cpu: 100m, memory: 128Mi, ephemeral-storage: 64Mi }",
        "          limits: { ephemeral-storage: 128Mi }",
        extra,
      ].join("\n");
    const added = [
      service(
        "cache",
        "web",
        // Reached from the other VPC through an internal load balancer: a cost of its own.
        "        ports: { redis: 6379 }\n        probes:\n          readiness: { tcp: { port: redis } }\n        expose: { type: LoadBalancer, internal: true }",
      ),
      service("queue-worker", "worker", "        dependencies: [api, cache]"),
      service(
        "storefront",
        "web",
        "        ports: { http: 8080 }\n        probes:\n          readiness: { http: { path: / } }\n        route: { hostnames: [www.shop.example.com] }\n        dependencies: [api]",
      ),
    ].join("\n");
    const app = join(repo, "Pulumi.yaml");
    const text = readFileSync(app, "utf8");
    const at = text.indexOf("      # PostgreSQL as UID 999");
    writeFileSync(app, `${text.slice(0, at)}${added}\n${text.slice(at)}`);
    const md = await diffIn(repo, "--stack", "prod", "--base", "HEAD", "--format", "markdown");
    const top = md.indexOf("> [!IMPORTANT]");
    // The new public host first, before capacity, cards and objects.
    expect(top).toBeGreaterThan(0);
    expect(md.slice(top)).toMatch(
      /^> \[!IMPORTANT\]\n> This change exposes more:\n(> - .*\n)*> - shop\/storefront: new public host www\.shop\.example\.com \(HTTPRoute\)\n/,
    );
    expect(top).toBeLessThan(md.indexOf("#### Capacity, before → after"));
    // Capacity and cost deltas.
    expect(md).toMatch(
      /\| quota shop requests\.cpu \(peak, of 12\) \| `[█░]+` \d+% \| `[█░]+` \d+% \|/,
    );
    expect(md).toMatch(/- cost a month: (\d+\.\d\d) USD → (\d+\.\d\d) USD \(\+\d+\.\d\d\)/);
    const [, before, after] = /- cost a month: (\S+) USD → (\S+) USD/.exec(md)!;
    expect(Number(after) - Number(before)).toBeGreaterThanOrEqual(18.25 - 0.005);
    // A card for each new service.
    for (const name of ["cache", "queue-worker", "storefront"])
      expect(md).toContain(`**➕ \`shop/${name}\`** (added)`);
    expect(md).toContain("- public host www.shop.example.com (HTTPRoute)");
    // The api's new callers, as rules.
    expect(md).toContain("**✏️ `shop/api`** (changed)");
    expect(md).toContain("- + ingress from shop/queue-worker on 3000/TCP");
    expect(md).toContain("- + ingress from shop/storefront on 3000/TCP");
    expect(md).toContain("| `spec.ingress` | — | `ingress from shop/queue-worker on 3000/TCP` |");
    // And the traffic picture.
    expect(md).toContain("#### Traffic\n\n```mermaid\nflowchart LR\n");
  }, 120_000);

  test("retyping the Platform component, a grandparent of every workload object, replaces them all", async () => {
    const repo = throwawayRepo();
    const platform = join(repo, "platform", "platform.ts");
    const source = readFileSync(platform, "utf8");
    expect(source).toContain('super("platform:index:Platform", name');
    writeFileSync(
      platform,
      source.replace(
        'super("platform:index:Platform", name',
        'super("platform:index:Cluster", name',
      ),
    );
    const lines = (await diffIn(repo, "--stack", "dev", "--base", "HEAD")).trimEnd().split("\n");
    const api = "platform:workloads:WebService$kubernetes:apps/v1:Deployment::api-deploy";
    const namespace = "platform:tenancy:Tenant$kubernetes:core/v1:Namespace::shop-ns";
    expect(lines).toContain("~ Deployment/shop/api");
    expect(lines).toContain(
      `    !! replace: Pulumi identity changed (platform:index:Platform$${api} → platform:index:Cluster$${api}); add an alias to keep it`,
    );
    expect(lines).toContain("~ Namespace/shop");
    expect(lines).toContain(
      `    !! replace: Pulumi identity changed (platform:index:Platform$${namespace} → platform:index:Cluster$${namespace}); add an alias to keep it`,
    );
    // No field changes anywhere: every object is changed and replaced for its identity alone.
    const objects = lines.filter((l) => l.startsWith("~ ")).length;
    expect(objects).toBeGreaterThan(20);
    expect(lines[0]).toBe(
      `stack dev vs HEAD: 0 added, 0 removed, ${objects} changed, ${objects} replaced`,
    );
    for (const line of lines.slice(1).filter((l) => !l.startsWith("~ ")))
      expect(line).toMatch(
        /^ {4}!! replace: Pulumi identity changed \(platform:index:Platform\$(\S+) → platform:index:Cluster\$\1\); add an alias to keep it$/,
      );
  }, 60_000);
});

describe("safe-change guidance", () => {
  test("each replacement a procedure avoids says how, linking its section of docs/safe-changes.md", () => {
    const claim = (size: string) => ({
      metadata: { name: "data" },
      spec: { resources: { requests: { storage: size } } },
    });
    const sts = (size: string): Obj => ({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: {
        name: "postgres",
        namespace: "shop",
        labels: { "app.kubernetes.io/name": "postgres" },
      },
      spec: { volumeClaimTemplates: [claim(size)] },
    });
    const changes = diffRenders(renderOf([sts("10Gi")]), renderOf([sts("20Gi")]));
    const text = formatDiffText(changes, { stack: "prod", base: "main", tier: "prod" });
    expect(text).toContain(
      [
        "    !! REPLACE IN PROD (outage): spec.volumeClaimTemplates is immutable",
        "       how to avoid: expand each PVC in place, delete the StatefulSet with --cascade=orphan, then up (docs/safe-changes.md#statefulset-volume)",
      ].join("\n"),
    );
    expect(formatDiffMarkdown(changes, { stack: "prod", base: "main", tier: "prod" })).toContain(
      "  - how to avoid: expand each PVC in place, delete the StatefulSet with --cascade=orphan, then up (docs/safe-changes.md#statefulset-volume)",
    );
  });

  test("every section the guidance links exists in the doc", () => {
    const doc = readFileSync(join(PROJECT_DIR, SAFE_CHANGES), "utf8");
    const cases: [string, string][] = [
      ["StatefulSet", "spec.volumeClaimTemplates is immutable"],
      ["StatefulSet", "spec.serviceName is immutable"],
      ["Deployment", "spec.selector is immutable"],
      ["Service", "spec.clusterIP is immutable"],
      ["PersistentVolumeClaim", "spec.storageClassName is immutable"],
      ["StorageClass", "parameters is immutable"],
      ["Deployment", "renamed from Deployment/shop/api"],
      ["ConfigMap", "immutable data changed"],
    ];
    for (const [kind, reason] of cases) {
      const s = safeChange(kind, reason);
      expect(s, `${kind}: ${reason}`).toBeDefined();
      expect(doc, s!.anchor).toContain(`\n## ${s!.anchor}\n`);
    }
  });
});
