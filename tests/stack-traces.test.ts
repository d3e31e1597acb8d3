/**
 * Stack traces are off while the platform registers its resources (the SDK formats one for every
 * output promise), restored after, kept with PLATFORM_STACK_TRACES=1; an unexpected error says
 * how to see where it came from.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import {
  ArgumentError,
  STACK_TRACES_ENV,
  stackTracesOffForRun,
  withoutStackTraces,
} from "../components";
import { ConfigError } from "../platform";

describe("withoutStackTraces", () => {
  test("limits stack traces to none while it runs and restores the limit after", () => {
    const before = Error.stackTraceLimit;
    const inside = withoutStackTraces(() => ({
      limit: Error.stackTraceLimit,
      stack: new Error("x").stack,
    }));
    expect(inside).toEqual({ limit: 0, stack: "Error: x" });
    expect(Error.stackTraceLimit).toBe(before);
  });

  test(`${STACK_TRACES_ENV}=1 keeps them`, () => {
    const before = Error.stackTraceLimit;
    expect(
      withoutStackTraces(() => Error.stackTraceLimit, { env: { [STACK_TRACES_ENV]: "1" } }),
    ).toBe(before);
  });

  test("a resource declared inside records no source position: the SDK's capture has no frames", () => {
    // The SDK's Resource constructor calls this: it lifts the limit to Infinity and parses
    // `new Error().stack` into the positions sent with the registration.
    const callsites = () => (pulumi.Resource as unknown as { callsites(): unknown[] }).callsites();
    const prepare = Error.prepareStackTrace;
    expect(withoutStackTraces(callsites, { env: {} })).toEqual([]);
    expect(
      withoutStackTraces(
        () => {
          Error.stackTraceLimit = Infinity;
          return [new Error("x").stack, new TypeError("").stack];
        },
        { env: {} },
      ),
    ).toEqual(["Error: x", "TypeError"]);
    expect(Error.prepareStackTrace).toBe(prepare);
    // Outside, and with the switch, the SDK records where resources are declared as it would.
    expect(callsites().length).toBeGreaterThan(0);
    expect(withoutStackTraces(callsites, { env: { [STACK_TRACES_ENV]: "1" } })).toContainEqual(
      expect.objectContaining({ file: __filename }),
    );
  });

  test("an unexpected error keeps its message, says how to see its origin, and restores the limit", () => {
    const before = Error.stackTraceLimit;
    const thrown = (() => {
      try {
        withoutStackTraces(
          () => {
            throw new TypeError("boom");
          },
          { env: {} },
        );
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(thrown?.message).toBe(
      "boom (stack traces are off while resources are declared; run with PLATFORM_STACK_TRACES=1 to see where this came from)",
    );
    expect(thrown?.cause).toBeInstanceOf(TypeError);
    expect(Error.stackTraceLimit).toBe(before);
  });

  test("ArgumentError and the passThrough classes pass through as they are", () => {
    const argument = new ArgumentError('WebService "api"', ["replicas: expected a number"]);
    const config = new ConfigError(["services.web.replicas: expected a number"]);
    const fail = (e: Error) => () => {
      throw e;
    };
    expect(() => withoutStackTraces(fail(argument), { env: {} })).toThrow(argument);
    expect(() => withoutStackTraces(fail(config), { env: {}, passThrough: [ConfigError] })).toThrow(
      config,
    );
    // Not named: wrapped, with the hint, like any unexpected error.
    expect(() => withoutStackTraces(fail(config), { env: {} })).toThrow(
      /^Invalid stack configuration[^]*expected a number \(stack traces are off while resources are declared;/,
    );
  });
});

describe("stackTracesOffForRun", () => {
  test("turns them off for the rest of the run, and withoutStackTraces leaves them off", () => {
    const before = Error.stackTraceLimit;
    try {
      expect(stackTracesOffForRun({})).toBe(true);
      expect(new Error("x").stack).toBe("Error: x");
      withoutStackTraces(() => undefined, { env: {} });
      expect(Error.stackTraceLimit).toBe(0);
    } finally {
      Error.stackTraceLimit = before;
    }
  });

  test(`${STACK_TRACES_ENV}=1 keeps them`, () => {
    const before = Error.stackTraceLimit;
    expect(stackTracesOffForRun({ [STACK_TRACES_ENV]: "1" })).toBe(false);
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error("x").stack).toMatch(/^Error: x\n +at /);
  });
});
