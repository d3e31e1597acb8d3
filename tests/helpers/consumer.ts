/**
 * The consumer program (examples/typescript) with the packed library installed from its tarball
 * (scripts/lib/package-install.ts), as a team's own Pulumi program would depend on it.
 */
import { join } from "node:path";
import { installedCopy, type Installed } from "../../scripts/lib/package-install";
import { PROJECT_DIR } from "../../scripts/lib/stack-files";

export { sh, toolEnv } from "../../scripts/lib/package-install";

export const EXAMPLE_DIR = join(PROJECT_DIR, "examples", "typescript");

export type Consumer = Installed;

/** Packs the library and installs it into a fresh copy of the example program. */
export const installedExample = (): Consumer => installedCopy(EXAMPLE_DIR);
