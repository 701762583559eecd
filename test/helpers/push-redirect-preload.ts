// Preloaded (node --require) into the Functions emulator's runtime by the push suites, bundled
// by esbuild: reroutes the push hosts named in PUSH_TEST_ROUTES ("host=port,host=port") to
// the suite's fakes, trusting the CA in PUSH_TEST_CA for them, and refuses any other
// connection that would leave loopback.
import { readFileSync } from "node:fs";
import { redirectTls, refuseNonLoopback, type Routes } from "./push-redirect";

const routes: Routes = Object.fromEntries(
  (process.env.PUSH_TEST_ROUTES ?? "")
    .split(",")
    .filter((entry) => entry.includes("="))
    .map((entry) => {
      const [host, port] = entry.split("=");
      return [host, Number(port)];
    }),
);
if (process.env.PUSH_TEST_CA) redirectTls(routes, readFileSync(process.env.PUSH_TEST_CA, "utf8"));
refuseNonLoopback();
