import { useId } from 'react';

export interface Bar {
  /** The category, as read out and shown in the table (e.g. "Nov 3"). */
  label: string;
  value: number;
}

const WIDTH = 600;
const HEIGHT = 220;
const PAD = { top: 12, right: 8, bottom: 24, left: 36 };

/**
 * A small bar chart, hand-written SVG (no chart library in the bundle). Accessible: the SVG
 * is one image whose name is `title` and whose description is `summary`; the numbers
 * themselves are in a table behind a "Show as table" disclosure, for everyone.
 */
export function BarChart({
  data,
  title,
  summary,
  valueLabel,
  labelEvery = 5,
}: {
  data: Bar[];
  title: string;
  summary: string;
  /** The header of the value column ("New subscriptions"). */
  valueLabel: string;
  /** Show every n-th category under the axis (the last one is always shown). */
  labelEvery?: number;
}) {
  const id = useId();
  const max = Math.max(1, ...data.map((d) => d.value));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const step = data.length > 0 ? plotWidth / data.length : plotWidth;
  const barWidth = Math.max(1, step * 0.7);
  const y = (value: number) => PAD.top + plotHeight - (value / max) * plotHeight;
  const ticks = max > 1 ? [0, Math.round(max / 2), max].filter((v, i, all) => all.indexOf(v) === i) : [0, 1];
  return (
    <figure className="chart-figure">
      <svg
        className="chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-desc`}
      >
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{summary}</desc>
        {ticks.map((tick) => (
          <g key={tick}>
            <line className="chart-grid" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} />
            <text x={PAD.left - 6} y={y(tick) + 3} textAnchor="end">
              {tick}
            </text>
          </g>
        ))}
        {data.map((d, i) => {
          const x = PAD.left + i * step + (step - barWidth) / 2;
          const showLabel =
            i === data.length - 1 || (i % labelEvery === 0 && data.length - 1 - i >= labelEvery);
          return (
            <g key={d.label}>
              {d.value > 0 && (
                <rect x={x} y={y(d.value)} width={barWidth} height={y(0) - y(d.value)} rx={1.5}>
                  <title>{`${d.label}: ${d.value}`}</title>
                </rect>
              )}
              {showLabel && (
                // The last label ends at its bar's right edge, inside the chart.
                <text
                  x={i === data.length - 1 ? x + barWidth : x + barWidth / 2}
                  y={HEIGHT - 6}
                  textAnchor={i === data.length - 1 ? 'end' : 'middle'}
                >
                  {d.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <details className="chart-data">
        <summary>Show as table</summary>
        <div className="table-wrap">
          <table className="admin-table">
            <caption className="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col" className="num">
                  {valueLabel}
                </th>
              </tr>
            </thead>
            <tbody>
              {data.map((d) => (
                <tr key={d.label}>
                  <th scope="row">{d.label}</th>
                  <td className="num">{d.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
