/** Plain SVG charts: no library, nothing to download, readable in any language and direction. */

export function BarChart(props: {
  title: string;
  rows: { label: string; values: number[] }[];
  series: { name: string; className: string }[];
  format?: (value: number) => string;
}) {
  const { rows, series } = props;
  const max = Math.max(1, ...rows.flatMap((r) => r.values));
  const barHeight = 18;
  const gap = 10;
  const labelWidth = 250;
  const width = 640;
  const rowHeight = series.length * barHeight + gap;
  const height = rows.length * rowHeight + 4;
  const format = props.format ?? String;
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div class="legend">
        {series.map((s) => (
          <span key={s.name} class="legend-item">
            <span class={`swatch ${s.className}`} aria-hidden="true" /> {s.name}
          </span>
        ))}
      </div>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={props.title}>
        {rows.map((row, r) => (
          <g key={row.label} transform={`translate(0 ${r * rowHeight})`}>
            <text x={0} y={barHeight * 0.75} class="chart-label">
              {row.label}
            </text>
            {row.values.map((value, s) => {
              const w = ((width - labelWidth - 60) * value) / max;
              return (
                <g key={s} transform={`translate(${labelWidth} ${s * barHeight})`}>
                  <rect
                    width={Math.max(w, 1)}
                    height={barHeight - 3}
                    class={series[s]?.className}
                    rx={3}
                  />
                  <text x={w + 6} y={barHeight * 0.7} class="chart-value">
                    {format(value)}
                  </text>
                </g>
              );
            })}
          </g>
        ))}
      </svg>
    </figure>
  );
}
