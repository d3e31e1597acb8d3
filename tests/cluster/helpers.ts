/** Shared by the cluster tier's test files. */
import {
  parsePlatformConfig,
  STRUCTURED_VALUE_KEYS,
  type PlatformConfig,
} from "../../platform/config";
import {
  clusterBinaries,
  clusterCacheDir,
  startCluster,
  type Cluster,
  type ClusterBinaries,
} from "../../scripts/cluster/cluster";
import { loadStackFiles, PROJECT_DIR } from "../../scripts/lib/stack-files";

/** The control plane's binaries, or undefined (said loudly) when they are not built yet. */
export function clusterBinariesOrWarn(test: string): ClusterBinaries | undefined {
  const bins = clusterBinaries();
  if (!bins) {
    console.warn(
      `SKIPPED ${test}: the test control plane is not built (nothing under ${clusterCacheDir()}); run: bash scripts/cluster/build.sh`,
    );
  }
  return bins;
}

/** The stack's typed config, as the program reads it (secrets only marked as set). */
export function stackConfig(stack: string): PlatformConfig {
  const files = loadStackFiles(PROJECT_DIR, stack);
  const raw: Record<string, unknown> = {};
  for (const [full, value] of Object.entries(files.config)) {
    if (!full.startsWith(`${files.project}:`)) continue;
    const key = full.slice(files.project.length + 1);
    raw[key] = STRUCTURED_VALUE_KEYS.has(key) ? JSON.parse(value) : value;
  }
  return parsePlatformConfig(raw, { lookupSecret: () => "secret" });
}

/**
 * A control plane with kwok nodes shaped like `config`'s node pools and the `standard`
 * StorageClass kind provides (what the StatefulSets' claims name), provisioned by kwok's volume
 * stages: no real provisioner exists.
 */
export async function startStackCluster(config: PlatformConfig): Promise<Cluster> {
  const cluster = await startCluster({
    nodePools: config.cluster.nodePools ?? {},
    log: (l) => console.log(`[cluster] ${l}`),
  });
  await cluster.kubectlOk(["apply", "--server-side", "-f", "-"], {
    input: JSON.stringify({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: {
        name: "standard",
        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
      },
      provisioner: "kwok.x-k8s.io/volume",
      volumeBindingMode: "WaitForFirstConsumer",
    }),
  });
  return cluster;
}
