/**
 * The JSON Schemas editors use for Pulumi.yaml and Pulumi.<stack>.yaml: generated from the zod
 * schemas (a drift fails here), accepting every file of the sample app and of the frozen
 * fixture, and rejecting what the program would reject by shape.
 */
import Ajv2020 from "ajv/dist/2020";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { SCHEMA_DIR, schemaFiles } from "../scripts/config-schema";
import { PROJECT_DIR } from "../scripts/lib/stack-files";
import { syntheticApplication } from "../scripts/lib/synthetic";

const ajv = new Ajv2020({ allErrors: true, strict: false });
const load = (file: string) => JSON.parse(readFileSync(join(SCHEMA_DIR, file), "utf8")) as object;
const stackSchema = ajv.compile(load("stack.schema.json"));
const projectSchema = ajv.compile(load("project.schema.json"));

/** Ajv's complaints, as `path: message` lines. */
function errorsOf(validate: typeof stackSchema, doc: unknown): string[] {
  return validate(doc)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath}: ${e.message ?? ""}`);
}

const yamlAt = (dir: string, file: string) =>
  parse(readFileSync(join(dir, file), "utf8")) as unknown;
const stackFiles = (dir: string) => readdirSync(dir).filter((f) => /^Pulumi\..+\.yaml$/.test(f));

describe("the committed schemas", () => {
  test("are what npm run config:schema writes from the zod schemas", () => {
    for (const [file, text] of Object.entries(schemaFiles()))
      expect(readFileSync(join(SCHEMA_DIR, file), "utf8"), `schema/${file}`).toBe(text);
  });

  test.each([PROJECT_DIR, join(PROJECT_DIR, "tests", "fixtures", "shop")])(
    "accept every stack file and Pulumi.yaml in %s",
    (dir) => {
      expect(stackFiles(dir).length).toBeGreaterThan(2);
      for (const f of stackFiles(dir)) expect(errorsOf(stackSchema, yamlAt(dir, f)), f).toEqual([]);
      expect(errorsOf(projectSchema, yamlAt(dir, "Pulumi.yaml"))).toEqual([]);
    },
  );

  test("every stack file names the schema for editors (yaml-language-server modeline)", () => {
    for (const f of stackFiles(PROJECT_DIR))
      expect(readFileSync(join(PROJECT_DIR, f), "utf8"), f).toMatch(
        /^# yaml-language-server: \$schema=\.\/schema\/stack\.schema\.json\n/,
      );
    expect(readFileSync(join(PROJECT_DIR, "Pulumi.yaml"), "utf8")).toMatch(
      /^# yaml-language-server: \$schema=\.\/schema\/project\.schema\.json\n/,
    );
  });
});

/** A stack file with the environment and `config`. */
const stack = (config: Record<string, unknown>) => ({
  config: { "platform:tier": "dev", "platform:cluster": { cloud: "kind", name: "c" }, ...config },
});

describe("the stack schema rejects by shape what the program rejects", () => {
  test("a misspelt key, at the top and nested", () => {
    expect(errorsOf(stackSchema, stack({ "platform:clustr": { cloud: "kind" } }))).toContain(
      "/config/platform:clustr: must have required property 'secure'",
    );
    expect(
      errorsOf(
        stackSchema,
        stack({ "platform:cluster": { cloud: "kind", name: "c", nodePols: {} } }),
      ),
    ).toContain("/config/platform:cluster: must NOT have additional properties");
  });

  test("a value of the wrong kind or outside its choices", () => {
    expect(errorsOf(stackSchema, stack({ "platform:tier": "qa" }))).toContain(
      "/config/platform:tier: must be equal to one of the allowed values",
    );
    expect(
      errorsOf(
        stackSchema,
        stack({ "platform:overrides": { services: { db: { storage: "1Gi" } } } }),
      ).some((e) => e.startsWith("/config/platform:overrides/services/db/storage")),
    ).toBe(true);
  });

  test("overrides take partial objects and null; secrets are encrypted values", () => {
    expect(
      errorsOf(
        stackSchema,
        stack({
          "platform:overrides": { services: { web: { replicas: 2, ingress: null }, old: null } },
          "platform:db-password": { secure: "v1:abc" },
          "kubernetes:context": "kind-dev",
        }),
      ),
    ).toEqual([]);
    expect(errorsOf(stackSchema, stack({ "platform:db-password": "plain text" }))).toContain(
      "/config/platform:db-password: must be object",
    );
  });
});

describe("the application file schema", () => {
  const applicationSchema = ajv.compile(load("application.schema.json"));

  test("accepts what writeApplicationFiles writes, and the sample app as a file", () => {
    const { namespaces, services } = syntheticApplication(150);
    expect(errorsOf(applicationSchema, { namespaces, services })).toEqual([]);
    const project = yamlAt(PROJECT_DIR, "Pulumi.yaml") as {
      config: Record<string, { value: unknown }>;
    };
    expect(
      errorsOf(applicationSchema, {
        namespaces: project.config["platform:namespaces"].value,
        services: project.config["platform:services"].value,
      }),
    ).toEqual([]);
  });

  test("holds namespaces and services only; a stack file lists the files", () => {
    expect(errorsOf(applicationSchema, { tier: "dev" })).toContain(
      ": must NOT have additional properties",
    );
    expect(errorsOf(stackSchema, stack({ "platform:applicationFiles": ["apps"] }))).toEqual([]);
    expect(errorsOf(stackSchema, stack({ "platform:applicationFiles": "apps" }))).toContain(
      "/config/platform:applicationFiles: must be array",
    );
  });
});
