// A small wrapper over uPlot: a time-series chart that fills its container's width, follows
// the theme's colours (it is rebuilt on "themechange") and can be given new data.
import uPlot from './vendor/uPlot.esm.js';
import { cssVar } from './theme.js';
import { h } from './dom.js';

// series: [{label, color: '--css-var', fill?: bool, dash?: [..]}]; data: [xs(ms), ys...].
export class TimeChart {
  constructor(container, { title, series, height = 180, yLabel = '' }) {
    this.container = container;
    this.title = title;
    this.series = series;
    this.height = height;
    this.yLabel = yLabel;
    this.data = [[], ...series.map(() => [])];
    this.plot = null;
    this.onTheme = () => this.build();
    window.addEventListener('themechange', this.onTheme);
    this.resize = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize({ width: this.width(), height: this.height });
    });
    this.resize.observe(container);
    this.build();
  }

  width() {
    return Math.max(200, this.container.clientWidth - 4);
  }

  build() {
    if (this.plot) this.plot.destroy();
    const axis = cssVar('--muted');
    const grid = cssVar('--grid');
    const opts = {
      title: this.title,
      width: this.width(),
      height: this.height,
      ms: 1,
      cursor: { drag: { x: false, y: false } },
      legend: { show: true },
      scales: { y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid },
          label: this.yLabel, size: 50 },
      ],
      series: [
        {},
        ...this.series.map((s) => {
          const color = cssVar(s.color);
          return {
            label: s.label,
            stroke: color,
            width: 2,
            dash: s.dash,
            fill: s.fill ? `${color}33` : undefined,
            points: { show: false },
          };
        }),
      ],
    };
    this.plot = new uPlot(opts, this.data, this.container);
  }

  setData(data) {
    this.data = data;
    if (this.plot) this.plot.setData(data);
  }

  destroy() {
    window.removeEventListener('themechange', this.onTheme);
    this.resize.disconnect();
    if (this.plot) this.plot.destroy();
    this.plot = null;
  }
}

export function chartBox(extraClass = '') {
  return h('div', { class: `chart ${extraClass}` });
}
