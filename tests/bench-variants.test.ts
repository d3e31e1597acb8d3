import { describe, expect, test } from "vitest";
import {
  parseBackend,
  parseBenchProgram,
  parseEnvVariant,
  variantEnv,
} from "../scripts/lib/bench-variants";

describe("bench-engine's variants", () => {
  test("--with-env values are NAME=VALUE; the value may be empty or hold '='", () => {
    expect(parseEnvVariant("PLATFORM_SDK_DEBUG_LOGS=1")).toEqual({
      name: "PLATFORM_SDK_DEBUG_LOGS",
      value: "1",
    });
    expect(parseEnvVariant("NODE_OPTIONS=--max-semi-space-size=64")).toEqual({
      name: "NODE_OPTIONS",
      value: "--max-semi-space-size=64",
    });
    expect(parseEnvVariant("GOGC=")).toEqual({ name: "GOGC", value: "" });
    for (const bad of ["GOGC", "=1", "1X=1", "A-B=1", " A=1"])
      expect(parseEnvVariant(bad), bad).toBeUndefined();
  });

  test("the defaults unset every variable a variant sets; a variant sets only its own", () => {
    const all = ["PLATFORM_SDK_DEBUG_LOGS=1", "PLATFORM_STACK_TRACES=1"];
    expect(variantEnv(undefined, all)).toEqual({
      PLATFORM_SDK_DEBUG_LOGS: undefined,
      PLATFORM_STACK_TRACES: undefined,
    });
    expect(variantEnv("PLATFORM_STACK_TRACES=1", all)).toEqual({
      PLATFORM_SDK_DEBUG_LOGS: undefined,
      PLATFORM_STACK_TRACES: "1",
    });
    expect(variantEnv(undefined, [])).toEqual({});
  });

  test("--backend and --program values", () => {
    expect(parseBackend("postgres+zstd")).toEqual({ store: "postgres", compression: "zstd" });
    expect(parseBackend("file?metadata=skip")).toEqual({
      store: "file?metadata=skip",
      compression: undefined,
    });
    expect(parseBackend("s3")).toBeUndefined();
    expect(parseBenchProgram("batched:50")).toBe("batched:50");
    expect(parseBenchProgram("batched:0")).toBeUndefined();
  });
});
