// Accept-header parsing for the documents served outside the resource handlers (discovery, OpenAPI), where the
// media-type parameters (g, v, as) select the document shape.

export interface MediaRange {
  /** "application/json", "*\/*", ... lower-cased, without parameters. */
  mediaType: string;
  params: Record<string, string>;
  q: number;
}

/** Media ranges in the client's order of preference (by q, then as listed). */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header || !header.trim()) return [];
  const ranges = header.split(',').map((part, index) => {
    const [type, ...rawParams] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    let q = 1;
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const key = p.slice(0, eq).trim().toLowerCase();
      const value = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
      if (key === 'q') q = Number.isFinite(Number(value)) ? Number(value) : 0;
      else params[key] = value;
    }
    return { range: { mediaType: type.toLowerCase(), params, q }, index };
  });
  return ranges
    .filter((r) => r.range.mediaType !== '' && r.range.q > 0)
    .sort((a, b) => b.range.q - a.range.q || a.index - b.index)
    .map((r) => r.range);
}

/** Whether a range admits a plain `application/json` answer (no g/v/as parameters asking for another shape). */
export function acceptsPlainJson(r: MediaRange): boolean {
  const plain = !r.params.g && !r.params.v && !r.params.as;
  return plain && (r.mediaType === 'application/json' || r.mediaType === 'application/*' || r.mediaType === '*/*');
}

/** No Accept header, or one that lists a plain JSON range. */
export function allowsJson(header: string | undefined): boolean {
  const ranges = parseAccept(header);
  return ranges.length === 0 || ranges.some(acceptsPlainJson);
}
