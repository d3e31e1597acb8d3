/** Network helpers for the local servers the tests and benchmarks start. */
import { createServer } from "node:net";

/** A free TCP port on 127.0.0.1 (the kernel's pick; closed again before use). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === "object" && addr ? res(addr.port) : rej(new Error("no port")),
      );
    });
  });
}
