/**
 * The Pulumi Node.js SDK sends the engine debug messages about its own bookkeeping for every
 * resource it registers: "Registering resource", "RegisterResource RPC prepared" and "RPC
 * finished" (with the whole response formatted into it), and two more per component's outputs.
 * Each is a gRPC call of its own, made one after the other (the SDK chains them to keep their
 * order), which the engine decodes, turns into an event, copies for the display, and drops unless
 * `pulumi --debug` asked for debug output. They are three or four calls per registration beside
 * the one that matters: at 1,000 services, dropping them took a one-service preview from 34–38 s
 * to 20–28 s, side by side (README, "Scale").
 *
 * While the program runs they are therefore not sent. Only those messages are dropped, by their
 * text: the program's and the user's own `pulumi.log.debug` calls, and every other severity, go
 * through as before. `PLATFORM_SDK_DEBUG_LOGS=1` keeps them (the program cannot see whether the
 * CLI was run with `--debug`).
 */
import * as pulumi from "@pulumi/pulumi";

/** The environment variable that keeps the SDK's registration debug messages. */
export const SDK_DEBUG_LOGS_ENV = "PLATFORM_SDK_DEBUG_LOGS";

/** How the SDK's per-registration debug messages begin (runtime/resource.js). */
const REGISTRATION_MESSAGE =
  /^(Registering resource: |RegisterResource RPC |RegisterResourceOutputs RPC |Resource RPC serialization requested: )/;

/** True for a debug message the SDK writes about registering a resource. */
export function isSdkRegistrationMessage(message: string): boolean {
  return REGISTRATION_MESSAGE.test(message);
}

type Debug = typeof pulumi.log.debug;
/** The module whose `debug` the SDK calls (`pulumi.log`, the same object as its runtime's). */
interface LogModule {
  debug: Debug;
}

const FILTERED = Symbol.for("k8s-platform.sdkRegistrationLogsFiltered");

/**
 * Stops the SDK's per-registration debug messages for the rest of the run unless
 * `PLATFORM_SDK_DEBUG_LOGS=1`; true when it did (also when an earlier call had). The SDK's
 * runtime calls `debug` through the log module's exports, so replacing it there reaches those
 * calls; if a later SDK called it otherwise, its messages would simply be sent again.
 */
export function sdkRegistrationLogsOffForRun(
  env: NodeJS.ProcessEnv = process.env,
  log: LogModule = pulumi.log as unknown as LogModule,
): boolean {
  if (env[SDK_DEBUG_LOGS_ENV] === "1") return false;
  if ((log.debug as Debug & { [FILTERED]?: true })[FILTERED]) return true;
  const send = log.debug;
  const filtered: Debug = (message, ...rest) =>
    isSdkRegistrationMessage(message) ? Promise.resolve() : send(message, ...rest);
  log.debug = Object.assign(filtered, { [FILTERED]: true as const });
  return true;
}
