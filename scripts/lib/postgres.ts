/**
 * A throwaway PostgreSQL server for the backend tests: Debian's `postgresql` binaries, a data
 * directory of its own, listening on 127.0.0.1 at a free port. The server refuses to run as
 * root, so under root (CI) it runs as the `postgres` user the package creates. Trust
 * authentication on loopback only: a test server, never a pattern for a real one.
 */
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "./net";

export interface Postgres {
  /** `postgres://platform@127.0.0.1:<port>/pulumi?sslmode=disable` */
  readonly url: string;
  /** Runs SQL in the `pulumi` database; returns psql's unaligned output. */
  sql(query: string): string;
  stop(): void;
}

/** The directory of initdb and pg_ctl, or undefined when PostgreSQL is not installed. */
export function postgresBinaries(): string | undefined {
  const config = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" });
  const candidates = [
    ...(config.status === 0 ? [config.stdout.trim()] : []),
    ...(existsSync("/usr/lib/postgresql")
      ? readdirSync("/usr/lib/postgresql")
          .sort()
          .reverse()
          .map((v) => join("/usr/lib/postgresql", v, "bin"))
      : []),
  ];
  return candidates.find((d) => existsSync(join(d, "initdb")) && existsSync(join(d, "pg_ctl")));
}

export async function startPostgres(bin: string): Promise<Postgres> {
  const root = userInfo().uid === 0;
  const owner = root ? spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }) : undefined;
  if (root && owner?.status !== 0)
    throw new Error("running as root, but there is no postgres user to run the server as");
  const dir = mkdtempSync(join(tmpdir(), "pg-"));
  if (root) {
    const uid = Number(owner!.stdout.trim());
    const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const as = (cmd: string, args: string[]) =>
    root
      ? spawnSync("runuser", ["-u", "postgres", "--", cmd, ...args], {
          encoding: "utf8",
          timeout: 60_000,
        })
      : spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
  const ok = (r: ReturnType<typeof spawnSync>, what: string) => {
    if (r.status !== 0) throw new Error(`${what} failed: ${String(r.stderr || r.stdout)}`);
  };
  const port = await freePort();
  const data = join(dir, "data");
  ok(as(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres"]), "initdb");
  ok(
    as(join(bin, "pg_ctl"), [
      "-D",
      data,
      "-o",
      `-p ${port} -h 127.0.0.1 -k ${dir}`,
      "-l",
      join(dir, "log"),
      "-w",
      "start",
    ]),
    "pg_ctl start",
  );
  const psql = (db: string, user: string, query: string) =>
    spawnSync(
      "psql",
      ["-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", db, "-At", "-c", query],
      { encoding: "utf8", timeout: 60_000 },
    );
  ok(psql("postgres", "postgres", "CREATE USER platform"), "create user");
  ok(psql("postgres", "postgres", "CREATE DATABASE pulumi OWNER platform"), "create database");
  return {
    url: `postgres://platform@127.0.0.1:${port}/pulumi?sslmode=disable`,
    sql(query) {
      const r = psql("pulumi", "platform", query);
      ok(r, `psql ${query}`);
      return r.stdout;
    },
    stop() {
      as(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
