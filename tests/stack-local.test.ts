import { kindStackExpectations } from "./helpers/kind-stack";
import { describeStack } from "./helpers/stack-suite";

describeStack("local", kindStackExpectations);
