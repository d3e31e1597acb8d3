/**
 * Writes plugin/schema.json: the schema of the multi-language package as
 * `pulumi package get-schema plugin` gives it, from the packed library installed into a copy of
 * plugin/. Run after changing plugin/ (the unit tier fails while the file is stale):
 *
 *   npm run plugin:schema
 */
import { writeFileSync } from "node:fs";
import { PLUGIN_DIR, PLUGIN_SCHEMA, installedCopy, pluginSchema } from "./lib/package-install";
import { UsageError, parseFlags } from "./lib/cli";

const USAGE = `usage: npm run plugin:schema
  writes plugin/schema.json as pulumi package get-schema states it
exit codes: 0 written, 2 usage error`;

function main(): number {
  const flags = parseFlags(process.argv.slice(2), { help: { type: "boolean", short: "h" } }, USAGE);
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  const installed = installedCopy(PLUGIN_DIR);
  try {
    writeFileSync(PLUGIN_SCHEMA, pluginSchema(installed.dir));
  } finally {
    installed.cleanup();
  }
  console.log(`wrote ${PLUGIN_SCHEMA}`);
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(e instanceof UsageError ? e.message : String((e as Error).stack ?? e));
  process.exitCode = e instanceof UsageError ? 2 : 1;
}
