// The score distribution of one jet, drawn with uPlot: every member's density, the
// band between the lowest and highest member, and the ensemble's density. Densities
// come from the exact quantiles: between two neighbouring quantile levels a member
// holds that much probability, so its density there is the level step over the
// score step (a histogram with equal-probability bins).
import uPlot from "./vendor/uPlot.esm.js";

const GRID_POINTS = 240;
const BAND_EDGE = "rgba(33, 102, 172, 0.35)";

// Density of one member at each grid score; null outside its quantile range.
function memberDensity(levels, quantiles, grid) {
  const density = new Array(grid.length).fill(null);
  let bin = 0;
  grid.forEach((score, g) => {
    if (score < quantiles[0] || score > quantiles[quantiles.length - 1]) {
      return;
    }
    while (bin < quantiles.length - 2 && score > quantiles[bin + 1]) {
      bin++;
    }
    const width = quantiles[bin + 1] - quantiles[bin];
    const mass = levels[bin + 1] - levels[bin];
    density[g] = width > 0 ? mass / width : null;
  });
  return density;
}

// uPlot's aligned data: [grid, lower, upper, ensemble, member 0, member 1, ...].
export function densityData(summary) {
  const levels = summary.quantile_levels;
  const members = summary.member_quantiles;
  let low = Math.min(...members.map((q) => q[0]));
  let high = Math.max(...members.map((q) => q[q.length - 1]));
  if (!(high > low)) {
    low -= 1e-6;
    high += 1e-6;
  }
  const step = (high - low) / (GRID_POINTS - 1);
  const grid = Array.from({ length: GRID_POINTS }, (_, g) => low + step * g);
  const perMember = members.map((q) => memberDensity(levels, q, grid));
  const lower = [];
  const upper = [];
  const ensemble = [];
  grid.forEach((_, g) => {
    const values = perMember.map((density) => density[g] ?? 0);
    lower.push(Math.min(...values));
    upper.push(Math.max(...values));
    ensemble.push(values.reduce((sum, value) => sum + value, 0) / values.length);
  });
  return [grid, lower, upper, ensemble, ...perMember];
}

// A vertical dashed line at the working point.
function cutLine(getCut) {
  return (u) => {
    const cut = getCut();
    if (cut < u.scales.x.min || cut > u.scales.x.max) {
      return;
    }
    const x = u.valToPos(cut, "x", true);
    const context = u.ctx;
    context.save();
    context.strokeStyle = "#b3261e";
    context.setLineDash([6, 4]);
    context.lineWidth = 2 * devicePixelRatio;
    context.beginPath();
    context.moveTo(x, u.bbox.top);
    context.lineTo(x, u.bbox.top + u.bbox.height);
    context.stroke();
    context.restore();
  };
}

export class DensityPlot {
  constructor(container, getCut) {
    this.container = container;
    this.getCut = getCut;
    this.plot = null;
    this.members = -1;
    new ResizeObserver(() => this.resize()).observe(container);
  }

  size() {
    const width = Math.max(260, this.container.clientWidth);
    return { width, height: Math.round(Math.min(360, Math.max(220, width * 0.55))) };
  }

  resize() {
    if (this.plot) {
      this.plot.setSize(this.size());
    }
  }

  options(nMembers) {
    const series = [
      { label: "score" },
      { label: "lowest member", stroke: BAND_EDGE, width: 1, points: { show: false } },
      { label: "highest member", stroke: BAND_EDGE, width: 1, points: { show: false } },
      { label: "ensemble", stroke: "#08306b", width: 2.5, points: { show: false } },
    ];
    for (let m = 0; m < nMembers; m++) {
      series.push({
        label: `member ${m}`,
        stroke: "rgba(90, 90, 90, 0.45)",
        width: 1,
        points: { show: false },
        spanGaps: false,
      });
    }
    return {
      ...this.size(),
      series,
      bands: [{ series: [2, 1], fill: "rgba(66, 146, 198, 0.25)" }],
      scales: { x: { time: false } },
      axes: [
        { label: "tagger score (unitless, between 0 and 1)", size: 50 },
        { label: "probability density per unit score", size: 60 },
      ],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      hooks: { draw: [cutLine(this.getCut)] },
    };
  }

  show(summary) {
    const data = densityData(summary);
    const nMembers = summary.member_quantiles.length;
    if (!this.plot || this.members !== nMembers) {
      if (this.plot) {
        this.plot.destroy();
      }
      this.plot = new uPlot(this.options(nMembers), data, this.container);
      this.members = nMembers;
    } else {
      this.plot.setData(data);
    }
  }

  redraw() {
    if (this.plot) {
      this.plot.redraw(false);
    }
  }
}
