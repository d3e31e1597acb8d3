/**
 * Writes the JSON Schemas of Pulumi.yaml, Pulumi.<stack>.yaml and application files
 * (platform/config/json-schema.ts)
 * to schema/, for editors:
 *   npm run config:schema
 * The unit tier fails when the committed files differ from what this writes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  applicationFileSchema,
  projectFileSchema,
  stackFileSchema,
} from "../platform/config/json-schema";
import { EXIT, parseFlags, UsageError, wantsHelp } from "./lib/cli";
import { loadStackFiles, PROJECT_DIR, listStacks } from "./lib/stack-files";

/** Where the schemas live, and their files' text for this project. */
export const SCHEMA_DIR = join(PROJECT_DIR, "schema");

export function schemaFiles(projectDir = PROJECT_DIR): Record<string, string> {
  const project = loadStackFiles(projectDir, listStacks(projectDir)[0]).project;
  const text = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  return {
    "stack.schema.json": text(stackFileSchema(project)),
    "project.schema.json": text(projectFileSchema(project)),
    "application.schema.json": text(applicationFileSchema(project)),
  };
}

const USAGE = `usage: npm run config:schema
  writes schema/stack.schema.json, schema/project.schema.json and schema/application.schema.json
  from the config's zod schemas
exit codes: 0 written, 2 usage error`;

function main(argv: readonly string[]): number {
  if (wantsHelp(argv)) {
    console.log(USAGE);
    return EXIT.ok;
  }
  try {
    parseFlags(argv, {}, USAGE);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`config-schema: ${e.message}`);
    return EXIT.usage;
  }
  mkdirSync(SCHEMA_DIR, { recursive: true });
  const files = schemaFiles();
  for (const [file, text] of Object.entries(files)) writeFileSync(join(SCHEMA_DIR, file), text);
  console.log(
    `wrote ${Object.keys(files)
      .map((f) => `schema/${f}`)
      .join(", ")}`,
  );
  return EXIT.ok;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
