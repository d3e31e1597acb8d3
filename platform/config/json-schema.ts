/**
 * JSON Schemas of the files people edit, generated from the zod schemas the program validates
 * with, so editors complete and check them (yaml-language-server: the modeline at the top of
 * each file, or .vscode/settings.json): `Pulumi.<stack>.yaml` (the environment, overrides,
 * defaults, secrets), `Pulumi.yaml` (the application and the pipeline) and application files
 * (`platform:applicationFiles`: namespaces and services). The program's
 * checks that span several keys (references, quotas, capacity) stay the program's.
 * `npm run config:schema` writes them to schema/; a unit test keeps them in step.
 */
import { z } from "zod";
import { SECRET_CHECKSUM_KEY } from "./checks";
import { APPLICATION_FILES_KEY } from "./application";
import { RELEASE_KEY } from "./release";
import { defaultsSchema, platformSchema } from "./schema";
import { stagesSchema } from "./stages";

type Json = { [key: string]: unknown };
const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A zod schema as JSON Schema (its input side: what is written in the file). */
function toJson(schema: z.ZodType): Json {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
  }) as Json;
  return rest;
}

/**
 * The schema of a patch over values of `schema` (`platform:overrides`): objects merge, so no key
 * is required; lists replace; `null` removes a key.
 */
function patchOf(schema: Json): Json {
  const nullable = (s: Json): Json => ({ anyOf: [s, { type: "null" }] });
  const walk = (s: Json): Json => {
    const out: Json = { ...s };
    delete out.required;
    if (isObject(s.properties))
      out.properties = Object.fromEntries(
        Object.entries(s.properties).map(([k, v]) => [k, nullable(walk(v as Json))]),
      );
    if (isObject(s.additionalProperties))
      out.additionalProperties = nullable(walk(s.additionalProperties));
    for (const key of ["anyOf", "oneOf"] as const)
      if (Array.isArray(s[key])) out[key] = (s[key] as Json[]).map(walk);
    return out;
  };
  return nullable(walk(schema));
}

/** The sections of the config document, by key. */
const shape: Readonly<Record<string, z.ZodType>> = platformSchema.shape;

const SECURE: Json = {
  type: "object",
  description: "A secret, encrypted by the stack's secrets provider (pulumi config set --secret).",
  properties: { secure: { type: "string" } },
  required: ["secure"],
  additionalProperties: false,
};

const APPLICATION_FILES: Json = {
  description:
    "Files holding the application (namespaces and services), relative to the project directory: a .yaml file, or a directory (every .yaml below it, in path order).",
  type: "array",
  items: { type: "string", minLength: 1 },
};

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The `platform:*` keys of a stack file and their schemas. */
function stackConfigKeys(): Record<string, Json> {
  const section = (key: string) => toJson(shape[key]);
  const services = section("services");
  const namespaces = section("namespaces");
  const keys: Record<string, Json> = {
    tier: section("tier"),
    cluster: section("cluster"),
    namespaces,
    services,
    [APPLICATION_FILES_KEY]: APPLICATION_FILES,
    capacity: section("capacity"),
    defaults: toJson(defaultsSchema),
    review: section("review"),
    overrides: {
      description:
        "A small per-stack patch deep-merged over the application (namespaces, services): objects merge, lists replace, null removes.",
      type: "object",
      properties: { namespaces: patchOf(namespaces), services: patchOf(services) },
      additionalProperties: false,
    },
    [SECRET_CHECKSUM_KEY]: {
      ...SECURE,
      description:
        "The key of the checksum/secret-env pod annotations; npm run stack:init generates it.",
    },
    [RELEASE_KEY]: {
      description:
        "The commit this stage runs (a stage after the first); npm run promote writes it, npm run deploy runs it.",
      type: "string",
      pattern: "^[0-9a-f]{40}$",
    },
  };
  return keys;
}

/** Each key under its project-qualified and its bare name, both referring to `$defs`. */
function byReference(project: string, keys: Record<string, Json>): Json {
  return Object.fromEntries(
    Object.keys(keys).flatMap((k) => [
      [`${project}:${k}`, { $ref: `#/$defs/${k}` }],
      [k, { $ref: `#/$defs/${k}` }],
    ]),
  );
}

/** The JSON Schema of `Pulumi.<stack>.yaml` for the project named `project`. */
export function stackFileSchema(project: string): Json {
  const keys = stackConfigKeys();
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `Pulumi.<stack>.yaml of the ${project} program`,
    $defs: keys,
    type: "object",
    properties: {
      secretsprovider: { type: "string" },
      encryptedkey: { type: "string" },
      encryptionsalt: { type: "string" },
      environment: {},
      config: {
        type: "object",
        properties: byReference(project, keys),
        patternProperties: {
          // Any other key of the project is a secret a service's secretEnv names.
          // (A key matching both properties and a pattern must satisfy both: the known keys are
          // left out of the pattern.)
          [`^${escape(project)}:(?!(${Object.keys(keys).map(escape).join("|")})$)[A-Za-z0-9_.-]+$`]:
            SECURE,
          // Other packages' config (kubernetes:..., pulumi:...) is theirs.
          [`^(?!${escape(project)}:)[A-Za-z0-9_.-]+:.+$`]: {},
        },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  };
}

/** The JSON Schema of `Pulumi.yaml` for the project named `project`. */
export function projectFileSchema(project: string): Json {
  const valued = (schema: Json, description: string): Json => ({
    type: "object",
    description,
    properties: { value: schema, description: { type: "string" } },
    required: ["value"],
    additionalProperties: false,
  });
  const keys: Record<string, Json> = {
    namespaces: valued(toJson(shape.namespaces), "The tenant namespaces, described once."),
    services: valued(toJson(shape.services), "The workloads, described once."),
    [APPLICATION_FILES_KEY]: valued(APPLICATION_FILES, "Files holding the application."),
    stages: valued(toJson(stagesSchema), "The promotion pipeline."),
  };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `Pulumi.yaml of the ${project} program`,
    $defs: keys,
    type: "object",
    required: ["name", "runtime"],
    properties: {
      name: { const: project },
      config: { type: "object", properties: byReference(project, keys) },
    },
  };
}

/** The JSON Schema of an application file (`platform:applicationFiles`). */
export function applicationFileSchema(project: string): Json {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `An application file of the ${project} program`,
    type: "object",
    properties: {
      namespaces: toJson(shape.namespaces),
      services: toJson(shape.services),
    },
    additionalProperties: false,
  };
}
