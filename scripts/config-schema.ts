/**
 * Writes the JSON Schemas of Pulumi.yaml and Pulumi.<stack>.yaml (platform/config/json-schema.ts)
 * to schema/, for editors:
 *   npm run config:schema
 * The unit tier fails when the committed files differ from what this writes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectFileSchema, stackFileSchema } from "../platform/config/json-schema";
import { loadStackFiles, PROJECT_DIR, listStacks } from "./lib/stack-files";

/** Where the schemas live, and their files' text for this project. */
export const SCHEMA_DIR = join(PROJECT_DIR, "schema");

export function schemaFiles(projectDir = PROJECT_DIR): Record<string, string> {
  const project = loadStackFiles(projectDir, listStacks(projectDir)[0]).project;
  const text = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  return {
    "stack.schema.json": text(stackFileSchema(project)),
    "project.schema.json": text(projectFileSchema(project)),
  };
}

if (require.main === module) {
  mkdirSync(SCHEMA_DIR, { recursive: true });
  for (const [file, text] of Object.entries(schemaFiles()))
    writeFileSync(join(SCHEMA_DIR, file), text);
  console.log(
    `wrote ${Object.keys(schemaFiles())
      .map((f) => `schema/${f}`)
      .join(", ")}`,
  );
}
