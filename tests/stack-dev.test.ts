import { kindStackExpectations } from "./helpers/kind-stack";
import { describeStack } from "./helpers/stack-suite";

describeStack("dev", kindStackExpectations);
