// The pair-length histogram of the validation report: lengths before truncation, with the bins past the
// run's max length marked, since those pairs are cut.

export function Histogram({ edges: allEdges, counts: allCounts, maxLength }: { edges: number[]; counts: number[]; maxLength: number }) {
  // Empty bins past the longest pair say nothing: keep one of them, to show where the data ends.
  let last = allCounts.length - 1;
  while (last > 0 && !allCounts[last] && !allCounts[last - 1]) last--;
  const counts = allCounts.slice(0, last + 1);
  const edges = allEdges.slice(0, Math.min(allEdges.length, last + 1));
  const max = Math.max(1, ...counts);
  return (
    <figure className="histogram">
      <figcaption>Pair length before truncation (prompt + longer completion, tokens); max length {maxLength}</figcaption>
      <ol aria-label="Length histogram">
        {counts.map((c, i) => {
          const label = i < edges.length ? `≤ ${edges[i]}` : `> ${edges[edges.length - 1]}`;
          // Every pair in this bin is longer than max length (the bin starts above it).
          const cut = i > 0 && allEdges[i - 1] >= maxLength;
          return (
            <li key={i} className={cut ? 'cut' : undefined} aria-label={`${label}: ${c} pairs${cut ? ', cut to max length' : ''}`}>
              <span className="hbar" style={{ height: `${(100 * c) / max}%` }} />
              <span className="hlabel">{label}</span>
              <span className="hcount">{c}</span>
            </li>
          );
        })}
      </ol>
    </figure>
  );
}
