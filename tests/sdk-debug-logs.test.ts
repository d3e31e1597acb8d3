/**
 * The SDK's debug messages about each registration are not sent while the program runs (each is
 * a gRPC call the engine drops unless `--debug`); everything else logged goes through, and
 * PLATFORM_SDK_DEBUG_LOGS=1 keeps them.
 */
import { registered, valueOf } from "./helpers/mocks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import { waitForRegistrations } from "../scripts/lib/mock-run";
import {
  isSdkRegistrationMessage,
  SDK_DEBUG_LOGS_ENV,
  sdkRegistrationLogsOffForRun,
} from "../components";

type Debug = typeof pulumi.log.debug;

/** A component whose outputs are registered when the test says (as components do). */
class Owner extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:index:Owner", name);
  }
  done(): void {
    this.registerOutputs({});
  }
}

/** A log module whose `debug` records what reaches it. */
function recordingLog(): { log: { debug: Debug }; sent: unknown[][] } {
  const sent: unknown[][] = [];
  const log = {
    debug: ((...args: unknown[]) => {
      sent.push(args);
      return Promise.resolve();
    }) as Debug,
  };
  return { log, sent };
}

describe("isSdkRegistrationMessage", () => {
  test.each([
    "Registering resource: t=kubernetes:apps/v1:Deployment, name=web, custom=true, remote=false",
    "RegisterResource RPC prepared: t=kubernetes:apps/v1:Deployment, name=web",
    "RegisterResource RPC finished: resource:web[kubernetes:apps/v1:Deployment]; err: null, resp: urn:pulumi:dev::platform::x",
    "RegisterResourceOutputs RPC prepared: urn=urn:pulumi:dev::platform::platform:index:Platform::platform",
    "RegisterResourceOutputs RPC finished: urn=urn:pulumi:dev::platform::x; err: null, resp: ",
    "Resource RPC serialization requested: resource:web[kubernetes:apps/v1:Deployment] is current",
  ])("the SDK's %s", (message) => {
    expect(isSdkRegistrationMessage(message)).toBe(true);
  });

  test.each([
    "registering web",
    "Registering resources for team shop",
    "capacity: 4 of 6 CPU requested in shop",
    " Registering resource: t=x",
  ])("not %j", (message) => {
    expect(isSdkRegistrationMessage(message)).toBe(false);
  });
});

describe("sdkRegistrationLogsOffForRun", () => {
  test("drops the registration messages and sends every other message with its arguments", async () => {
    const { log, sent } = recordingLog();
    expect(sdkRegistrationLogsOffForRun({}, log)).toBe(true);
    await log.debug("Registering resource: t=kubernetes:core/v1:Service, name=web");
    await log.debug("RegisterResource RPC finished: resource:web; err: null, resp: x");
    await log.debug("planned 4 workloads", undefined, 7, true);
    expect(sent).toEqual([["planned 4 workloads", undefined, 7, true]]);
  });

  test(`${SDK_DEBUG_LOGS_ENV}=1 leaves the SDK's logging as it is`, () => {
    const { log } = recordingLog();
    const debug = log.debug;
    expect(sdkRegistrationLogsOffForRun({ [SDK_DEBUG_LOGS_ENV]: "1" }, log)).toBe(false);
    expect(log.debug).toBe(debug);
  });

  test("a second call does not wrap it again", async () => {
    const { log, sent } = recordingLog();
    sdkRegistrationLogsOffForRun({}, log);
    const once = log.debug;
    expect(sdkRegistrationLogsOffForRun({}, log)).toBe(true);
    expect(log.debug).toBe(once);
    await log.debug("kept");
    expect(sent).toEqual([["kept"]]);
  });

  test("reaches the installed SDK: its registrations log through pulumi.log.debug, and are dropped", async () => {
    // Record what reaches pulumi.log.debug (the SDK's runtime calls it through the same module).
    const sdkDebug = pulumi.log.debug;
    const { log: recorder, sent } = recordingLog();
    const logModule = pulumi.log as unknown as { debug: Debug };
    logModule.debug = recorder.debug;
    try {
      const register = async (name: string) => {
        const owner = new Owner(name);
        const map = new k8s.core.v1.ConfigMap(name, { data: { a: "b" } }, { parent: owner });
        owner.done();
        await valueOf(map.id);
        await waitForRegistrations();
      };
      const messages = () => sent.map(([m]) => String(m));

      await register("before");
      // The SDK writes its registration messages, all of them recognised.
      expect(messages().filter((m) => m.includes("before"))).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^Registering resource: t=test:index:Owner, name=before,/),
          expect.stringMatching(/^RegisterResource RPC prepared: t=kubernetes:core\/v1:ConfigMap/),
          expect.stringMatching(/^RegisterResource RPC finished: resource:before\[/),
          expect.stringMatching(/^RegisterResourceOutputs RPC prepared: urn=.*::before$/),
        ]),
      );
      expect(messages().filter((m) => !isSdkRegistrationMessage(m))).toEqual([]);

      sent.length = 0;
      expect(sdkRegistrationLogsOffForRun({})).toBe(true);
      await register("after");
      expect(registered.map((r) => r.name)).toEqual(["before", "before", "after", "after"]);
      expect(messages()).toEqual([]);
      await pulumi.log.debug("the program's own message");
      expect(messages()).toEqual(["the program's own message"]);
    } finally {
      logModule.debug = sdkDebug;
    }
  });
});
