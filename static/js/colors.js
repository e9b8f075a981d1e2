// One colour language for the whole page: the same quantity has the same colour everywhere.
// Signed values use the TensorFlow Playground's diverging scale: orange < 0 < blue, white at 0.

export const NEG = [232, 121, 22];
export const POS = [20, 110, 190];
export const MID = [247, 247, 247];

/** RGB triple for v on a diverging scale symmetric around zero, |v| ≤ max. */
export function divergingRGB(v, max) {
  if (!Number.isFinite(v)) return [200, 0, 200];
  const t = max > 0 ? Math.max(-1, Math.min(1, v / max)) : 0;
  const end = t < 0 ? NEG : POS;
  const k = Math.sqrt(Math.abs(t));
  return [
    Math.round(MID[0] + (end[0] - MID[0]) * k),
    Math.round(MID[1] + (end[1] - MID[1]) * k),
    Math.round(MID[2] + (end[2] - MID[2]) * k),
  ];
}

export function divergingCss(v, max) {
  const [r, g, b] = divergingRGB(v, max);
  return `rgb(${r},${g},${b})`;
}

/** The same scale for Plotly heatmaps / contours (use with zmid: 0). */
export const PLOTLY_DIVERGING = [
  [0, `rgb(${NEG})`], [0.5, `rgb(${MID})`], [1, `rgb(${POS})`],
];
export const PLOTLY_SEQUENTIAL = [[0, '#f7f7f7'], [1, '#3b3b8f']];

/** Curves: loss and accuracy, training solid and validation dashed. */
export const CURVE = {
  loss: '#c0392b',
  acc: '#27864a',
  batchLoss: '#c0392b',
};
export const DASH = { train: 'solid', val: 'dash' };

/** One colour per layer (used in the health charts and the layer panels' headers). */
const LAYER_COLORS = ['#6a3d9a', '#b15928', '#1b9e77', '#e7298a', '#66a61e', '#a6761d', '#7570b3', '#333333'];
export const layerColor = (i) => LAYER_COLORS[i % LAYER_COLORS.length];

/** One colour per learning rate, ordered from small (dark purple) to large (yellow). */
const RATE_COLORS = ['#440154', '#46327e', '#365c8d', '#277f8e', '#1fa187', '#4ac16d', '#a0da39', '#d4b200'];
export function rateColor(i, n) {
  if (n <= 1) return RATE_COLORS[3];
  return RATE_COLORS[Math.round((i / (n - 1)) * (RATE_COLORS.length - 1))];
}

/** Classes on scatter plots: class 0 orange, class 1 blue (as the Playground). */
export const CLASS_COLORS = [`rgb(${NEG})`, `rgb(${POS})`, '#27864a', '#8e44ad', '#c0392b', '#7f8c8d',
  '#d4b200', '#16a085', '#2c3e50', '#e84393'];

/** Base Plotly layout and config shared by every chart (PNG export via the modebar). */
export const PLOT_CONFIG = {
  displaylogo: false,
  responsive: true,
  modeBarButtonsToRemove: ['lasso2d', 'select2d', 'autoScale2d'],
  toImageButtonOptions: { format: 'png', scale: 2 },
};
export function baseLayout(extra = {}) {
  return {
    uirevision: 'keep',
    margin: { l: 50, r: 12, t: 28, b: 40 },
    font: { family: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', size: 12 },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: '#fff',
    legend: { orientation: 'h', y: 1.12, x: 0 },
    hovermode: 'x unified',
    ...extra,
  };
}
