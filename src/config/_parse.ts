import * as v from "valibot";

/**
 * A valibot step through a parser that throws an Error naming the bad part (parseDuration,
 * parseRouteRule): its message becomes the issue's, so config errors read like the parser's.
 */
export function parsedBy<I, O>(parse: (input: I) => O) {
  return v.rawTransform<I, O>(({ dataset, addIssue, NEVER }) => {
    try {
      return parse(dataset.value);
    } catch (error) {
      addIssue({ message: error instanceof Error ? error.message : String(error) });
      return NEVER;
    }
  });
}
