// The pair-length histogram of the validation report.

export function Histogram({ edges: allEdges, counts: allCounts }: { edges: number[]; counts: number[] }) {
  // Empty bins past the longest pair say nothing: keep one of them, to show where the data ends.
  let last = allCounts.length - 1;
  while (last > 0 && !allCounts[last] && !allCounts[last - 1]) last--;
  const counts = allCounts.slice(0, last + 1);
  const edges = allEdges.slice(0, Math.min(allEdges.length, last + 1));
  const max = Math.max(1, ...counts);
  return (
    <figure className="histogram">
      <figcaption>Pair length (prompt + longer completion, tokens)</figcaption>
      <ol aria-label="Length histogram">
        {counts.map((c, i) => {
          const label = i < edges.length ? `≤ ${edges[i]}` : `> ${edges[edges.length - 1]}`;
          return (
            <li key={i} aria-label={`${label}: ${c} pairs`}>
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
