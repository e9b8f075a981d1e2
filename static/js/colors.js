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

/** divergingRGB(v, max) written into px[o], px[o+1], px[o+2] (alpha 255) without an array per
 *  pixel: a table over k = √|t| in 256 steps (within one colour level of divergingRGB). For images
 *  drawn every frame (MNIST's digits and W(1) rows: 34,000 pixels a frame). */
const STEPS = 255;
const TABLE = [NEG, POS].map((end) => Uint8ClampedArray.from({ length: 3 * (STEPS + 1) },
  (_, i) => Math.round(MID[i % 3] + (end[i % 3] - MID[i % 3]) * (Math.floor(i / 3) / STEPS))));
export function divergingInto(px, o, v, max) {
  if (!Number.isFinite(v)) { px[o] = 200; px[o + 1] = 0; px[o + 2] = 200; px[o + 3] = 255; return; }
  const t = max > 0 ? Math.max(-1, Math.min(1, v / max)) : 0;
  const row = TABLE[t < 0 ? 0 : 1];
  const i = 3 * Math.round(Math.sqrt(Math.abs(t)) * STEPS);
  px[o] = row[i]; px[o + 1] = row[i + 1]; px[o + 2] = row[i + 2]; px[o + 3] = 255;
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

/** One colour per layer (the health charts' curves and the layer panels' top borders). Kept apart
 *  from the quantity colours (W purple, z blue, a green, δ red, b brown) and from orange/blue (sign). */
const LAYER_COLORS = ['#0e9fb5', '#d6336c', '#7a8c1a', '#475569', '#9d174d', '#0d9488', '#a3a3a3', '#111827'];
export const layerColor = (i) => LAYER_COLORS[i % LAYER_COLORS.length];

/** One colour per learning rate, small (dark purple) to large (gold): evenly spaced along viridis,
 *  so neighbouring rates stay distinguishable for any number of rates. */
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [200, 180, 0]];
export function rateColor(i, n) {
  const t = n <= 1 ? 0.5 : i / (n - 1);
  const x = t * (VIRIDIS.length - 1);
  const k = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - k;
  const c = VIRIDIS[k].map((v, m) => Math.round(v + (VIRIDIS[k + 1][m] - v) * f));
  return `rgb(${c.join(',')})`;
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
/** On a touch screen a finger's drag over a chart scrolls the page (Plotly's zoom box would trap it). */
const TOUCH = typeof matchMedia === 'function' && matchMedia('(pointer: coarse)').matches;
export function baseLayout(extra = {}) {
  return {
    uirevision: 'keep',
    dragmode: TOUCH ? false : 'zoom',
    margin: { l: 50, r: 12, t: 28, b: 40 },
    font: { family: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', size: 12 },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: '#fff',
    legend: { orientation: 'h', y: 1.12, x: 0 },
    hovermode: 'x unified',
    ...extra,
  };
}
