/** Shared by the masking tests: the redaction a Redactor must produce, computed the slow way. */

/** The expected output, computed the slow way: every occurrence, merged, plus the end-of-input tail rule. */
export function reference(patterns: readonly Buffer[], input: Buffer): string {
  const spans: [number, number][] = [];
  for (const p of patterns) for (let i = input.indexOf(p); i >= 0; i = input.indexOf(p, i + 1)) spans.push([i, i + p.length]);
  let tail = 0;
  for (const p of patterns) for (let k = Math.min(p.length - 1, input.length); k > tail; k--) if (input.subarray(-k).equals(p.subarray(0, k))) tail = k;
  if (tail >= 4) spans.push([input.length - tail, input.length]);
  spans.sort((x, y) => x[0] - y[0]);
  let out = '';
  let at = 0;
  for (let i = 0; i < spans.length; ) {
    let [start, end] = spans[i++]!;
    while (i < spans.length && spans[i]![0] <= end) end = Math.max(end, spans[i++]![1]);
    out += input.toString('latin1', at, start) + '***';
    at = end;
  }
  return out + input.toString('latin1', at);
}
