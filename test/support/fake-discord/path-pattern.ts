/**
 * Route templates such as `/channels/:channelId/messages/:messageId`, used both by the REST
 * router and by tests that inject 429s ("every GET on /channels/:id/messages"). A segment `*`
 * matches anything; a trailing `/**` matches any deeper path.
 */
export type PathParams = Record<string, string>;
/** Takes a path, or its already-decoded segments (a decoded segment may contain `/`). */
export type PathMatcher = (path: string | readonly string[]) => PathParams | null;

export function compilePathPattern(template: string): PathMatcher {
  const patternSegments = splitPath(template);
  const matchesDeeper = patternSegments.at(-1) === "**";
  if (matchesDeeper) patternSegments.pop();

  return (path) => {
    const segments = typeof path === "string" ? splitPath(path) : path;
    const lengthFits = matchesDeeper ? segments.length >= patternSegments.length : segments.length === patternSegments.length;
    if (!lengthFits) return null;
    const params: PathParams = {};
    for (const [index, pattern] of patternSegments.entries()) {
      const segment = segments[index] as string;
      if (pattern.startsWith(":")) params[pattern.slice(1)] = segment;
      else if (pattern !== "*" && pattern !== segment) return null;
    }
    return params;
  };
}

export function splitPath(path: string): string[] {
  return path.split("/").filter((segment) => segment.length > 0);
}

/**
 * discord.js URL-encodes each path segment (`%40original`, emoji in reaction routes). Decoding
 * per segment keeps an encoded `/` inside a segment from creating a new segment.
 */
export function decodePathSegments(rawPath: string): string[] {
  return splitPath(rawPath).map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  });
}

/** The inverse for URLs the fake hands out: each segment encoded, the slashes kept. */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** A route template (see above) or a RegExp tested against the decoded path; undefined matches all. */
export function pathPredicate(pattern: string | RegExp | undefined): (path: string) => boolean {
  if (pattern === undefined) return () => true;
  if (pattern instanceof RegExp) return (path) => pattern.test(path);
  const matcher = compilePathPattern(pattern);
  return (path) => matcher(path) !== null;
}
