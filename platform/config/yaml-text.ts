/**
 * Parsing YAML files the user writes (Pulumi.yaml, stack files, application files) with one
 * policy: duplicate keys are errors, aliases are bounded, and every error names the file and line.
 */
import { parse, YAMLParseError } from "yaml";

/**
 * How many nodes aliases may expand to in one file: far above what a hand-written file reuses
 * (an anchor used a few hundred times), far below what an alias bomb expands to.
 */
export const MAX_ALIAS_COUNT = 10_000;

/**
 * The value of a YAML text, or the problem that stops it being read: `<name>:<line>:<col>: not
 * valid YAML: ...`, one line.
 */
export function parseYamlText(
  text: string,
  name: string,
): { readonly value: unknown } | { readonly problem: string } {
  try {
    return { value: parse(text, { maxAliasCount: MAX_ALIAS_COUNT, uniqueKeys: true }) };
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const at = e.linePos?.[0] ? `:${e.linePos[0].line}:${e.linePos[0].col}` : "";
      return { problem: `${name}${at}: not valid YAML: ${e.message.split("\n")[0]}` };
    }
    // Alias problems (unresolved, too many expansions) come out of resolving the document.
    if (e instanceof ReferenceError || e instanceof RangeError) {
      const message = e.message.split("\n")[0];
      const unresolved = /^Unresolved alias.*: (\S+)$/.exec(message)?.[1];
      if (unresolved !== undefined) {
        const line = text.split("\n").findIndex((l) => l.includes(`*${unresolved}`)) + 1;
        return { problem: `${name}${line > 0 ? `:${line}` : ""}: not valid YAML: ${message}` };
      }
      return {
        problem: `${name}: not valid YAML: ${message} (aliases may expand to at most ${MAX_ALIAS_COUNT} nodes; write the repeated values out)`,
      };
    }
    throw e;
  }
}
