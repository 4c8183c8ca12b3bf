/** Small helpers shared by the benchmarks: medians, percentiles and aligned output. */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The `p`th percentile of an ascending array (nearest rank). */
export const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function printTable(title, rows) {
  console.log(`\n${title}`);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log('  ' + r.map((c, i) => String(c).padEnd(widths[i])).join('  '));
}

/** Medians of a variant's rounds (each `{ rps, p50, p99 }`, as http-load.js `load` gives), and the rounds. */
export const summarize = (rounds) => ({
  rounds,
  rps: median(rounds.map((r) => r.rps)),
  p50: median(rounds.map((r) => r.p50)),
  p99: median(rounds.map((r) => r.p99)),
});

/** A summary's rounds for a table column: `4,013 / 4,293 / ...` req/s, in round order. */
export const roundsColumn = (summary) => summary.rounds.map((r) => fmt(r.rps)).join(' / ');

/**
 * Prints and returns the ratio of two summaries' median req/s against a minimum target. Also prints each round's own
 * ratio (round i of `measured` against round i of `baseline`, run next to each other) and their median: the two
 * medians may come from different rounds, the paired ratios never do.
 */
export function printRatio(label, measured, baseline, target) {
  const ratio = measured.rps / baseline.rps;
  const paired = measured.rounds.map((r, i) => r.rps / baseline.rounds[i].rps);
  console.log(`  ratio ${label} (medians): ${ratio.toFixed(2)}x  (target >= ${target.toFixed(2)}x)`);
  console.log(`  paired per round: ${paired.map((x) => x.toFixed(2)).join(' / ')}  (median ${median(paired).toFixed(2)}x)`);
  return ratio;
}
