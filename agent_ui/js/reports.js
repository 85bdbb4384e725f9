// The reports page (supervisors and admins): a report from GET /api/reports, local days, an
// interval and the dimension's ids to keep; the rows as a table, drawn as charts (a time series of
// one figure per interval, outcomes stacked per interval, agents' time as bars), and the CSV of
// exactly the query shown, from the same route with format=csv. Charts are Chart.js, vendored
// (/ui/vendor/chartjs): the page draws nothing by hand. Figures are the server's; nothing is
// computed here but sums over the rows for the stacked charts.

import { ApiError, get } from "./api.js";
import { h, fill, toast } from "./dom.js";
import { duration, label } from "./time.js";

const Chart = window.Chart;
const root = document.getElementById("reports");

// the caller outcomes a call report may carry, in the order they stack
const OUTCOMES = [
  ["answered", "#1a7f37"],
  ["abandoned", "#c62828"],
  ["short_abandoned", "#f28b82"],
  ["timed_out", "#9a6700"],
  ["overflowed_out", "#0f766e"],
];
const PALETTE = ["#1f6feb", "#1a7f37", "#c62828", "#9a6700", "#6f42c1", "#0f766e", "#d63384", "#5a6b7b", "#e36209", "#2b8a3e"];
const TEXT_FILTERS = new Set(["skill", "dnis", "outcome", "reason"]);

/** Today in the browser's calendar, as a date input wants it. */
function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** "2026-12-01T09:30:00+01:00" -> "2026-12-01 09:30" (the centre's local time, as sent). */
function intervalText(iso) {
  return iso.slice(0, 16).replace("T", " ");
}

/** A cell as people read it; `null` (nothing to count) is a dash, never 0. */
function shown(value, unit) {
  if (value === null || value === undefined) return "—";
  switch (unit) {
    case "time":
      return intervalText(value);
    case "ratio":
      return `${(value * 100).toFixed(1)} %`;
    case "seconds":
      return duration(value);
    default:
      return String(value);
  }
}

/** The value as the CSV of the same query holds it (empty for null). */
function raw(value) {
  return value === null || value === undefined ? "" : String(value);
}

class ReportsPage {
  constructor() {
    this.catalogue = [];
    this.ids = { queue: [], agent: [] }; // [id, name] for the dimensions a multi-select offers
    this.names = new Map(); // agent id -> name, for the charts' labels
    this.charts = [];
    this.shown = null; // {name, query, data}: what the table and the charts show now
  }

  async load() {
    let me;
    try {
      me = await get("/api/me");
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        fill(root, h("p", {}, "Log in first: ", h("a", { href: "/" }, "the login page")));
        return;
      }
      throw err;
    }
    if (me.role === "agent") {
      fill(root, h("p", { class: "muted" }, "Reports are for supervisors."));
      return;
    }
    const [catalogue, queues, agents] = await Promise.all([get("/api/reports"), get("/api/queues"), get("/api/agents")]);
    this.catalogue = catalogue;
    this.ids.queue = queues.map((q) => [q.name, q.name]);
    this.ids.agent = agents.map((a) => [a.id, a.name]);
    for (const a of agents) this.names.set(a.id, a.name);
    this.build();
    this.chosen();
    await this.run();
  }

  report() {
    return this.catalogue.find((r) => r.name === this.name.value);
  }

  build() {
    this.name = h("select", { id: "report-name", "aria-label": "Report" }, this.catalogue.map((r) => h("option", { value: r.name }, r.title)));
    this.name.addEventListener("change", () => this.chosen());
    this.from = h("input", { id: "report-from", type: "date", value: today(), required: true, "aria-label": "From" });
    this.to = h("input", { id: "report-to", type: "date", value: today(), required: true, "aria-label": "To" });
    this.interval = h("select", { id: "report-interval", "aria-label": "Interval" });
    this.filterBox = h("span", { class: "filter-box" });
    this.csv = h("a", { id: "report-csv", class: "button-link", hidden: true }, "Download CSV");
    const form = h(
      "form",
      { id: "report-form", class: "report-bar card" },
      field("Report", this.name),
      field("From", this.from),
      field("To", this.to),
      field("Interval", this.interval),
      this.filterBox,
      h("div", { class: "filter-actions" }, h("button", { type: "submit", class: "primary", id: "report-run" }, "Show"), this.csv),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.run();
    });
    this.figure = h("select", { id: "chart-figure", "aria-label": "Figure over time" });
    this.figure.addEventListener("change", () => this.drawCharts());
    this.seriesTitle = h("h2", {}, "Over time");
    this.stackedTitle = h("h2", { id: "chart-stacked-title" }, "");
    this.series = h("canvas", { id: "chart-series", role: "img", "aria-label": "Figure per interval" });
    this.stacked = h("canvas", { id: "chart-stacked", role: "img", "aria-label": "Stacked figures" });
    this.title = h("h2", { id: "report-title" });
    this.meta = h("p", { class: "muted", id: "report-meta" });
    this.head = h("thead", {});
    this.body = h("tbody", { id: "report-body" });
    fill(
      root,
      form,
      h(
        "div",
        { class: "charts" },
        h("section", { class: "card" }, h("div", { class: "card-head" }, this.seriesTitle, this.figure), h("div", { class: "chart-box" }, this.series)),
        h("section", { class: "card" }, this.stackedTitle, h("div", { class: "chart-box" }, this.stacked)),
      ),
      h(
        "section",
        { class: "card" },
        this.title,
        this.meta,
        h("div", { class: "table-scroll" }, h("table", { class: "grid compact report-table", id: "report-table" }, this.head, this.body)),
      ),
    );
  }

  /** A report was chosen: its intervals (its default selected) and its dimension's filter. */
  chosen() {
    const r = this.report();
    fill(this.interval, r.intervals.map((i) => h("option", { value: i }, i)));
    this.interval.value = r.interval;
    const dim = r.dimension;
    if (this.ids[dim]) {
      this.filter = h("select", { id: "report-filter", multiple: true, size: Math.min(4, Math.max(2, this.ids[dim].length)), "aria-label": `${label(dim)}s to show (none: all)` },
        this.ids[dim].map(([id, name]) => h("option", { value: id }, name)));
    } else {
      this.filter = h("input", { id: "report-filter", type: "search", placeholder: `all (or ids, comma-separated)`, "aria-label": `${label(dim)}s to show` });
    }
    fill(this.filterBox, field(label(dim), this.filter));
    fill(this.figure, r.figures.map((f) => h("option", { value: f.key }, f.label)));
  }

  query() {
    const r = this.report();
    const params = new URLSearchParams({ from: this.from.value, to: this.to.value, interval: this.interval.value });
    const chosen = this.filter.tagName === "SELECT"
      ? [...this.filter.selectedOptions].map((o) => o.value)
      : this.filter.value.split(",").map((v) => v.trim()).filter(Boolean);
    for (const id of chosen) params.append(r.dimension, id);
    return params;
  }

  async run() {
    const name = this.name.value;
    const query = this.query();
    let data;
    try {
      data = await get(`/api/reports/${encodeURIComponent(name)}?${query}`);
    } catch (err) {
      toast(err.message);
      return;
    }
    this.shown = { name, query, data };
    // the CSV is the same query from the same route: exactly the rows of the table
    const csv = new URLSearchParams(query);
    csv.set("format", "csv");
    this.csv.href = `/api/reports/${encodeURIComponent(name)}?${csv}`;
    this.csv.setAttribute("download", `${name}_${data.report.from}_${data.report.to}.csv`);
    this.csv.hidden = false;
    this.renderTable();
    this.drawCharts();
  }

  renderTable() {
    const { data } = this.shown;
    const r = data.report;
    fill(this.title, r.title);
    fill(this.meta, `${r.from} to ${r.to}, per ${r.interval}, ${r.timezone} · ${data.rows.length} rows`);
    fill(this.head, h("tr", {}, data.columns.map((c) => h("th", { class: c.unit === "time" || c.unit === "id" ? "" : "num", dataset: { key: c.key } }, c.label))));
    const rows = data.rows.map((row) =>
      h("tr", { dataset: { interval: row.interval_start, dimension: row.dimension } },
        data.columns.map((c) => h("td", { class: c.unit === "time" || c.unit === "id" ? "" : "num", dataset: { key: c.key, value: raw(row[c.key]) } }, shown(row[c.key], c.unit)))),
    );
    fill(this.body, rows.length ? rows : h("tr", {}, h("td", { colspan: data.columns.length, class: "muted" }, "Nothing was counted in this period.")));
  }

  drawCharts() {
    if (!this.shown) return;
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
    const { data } = this.shown;
    const dim = data.report.dimension;
    const labels = [...new Set(data.rows.map((row) => row.interval_start))].sort();
    const values = [...new Set(data.rows.map((row) => row.dimension))].sort();
    const figure = data.columns.find((c) => c.key === this.figure.value) || data.columns[2];
    fill(this.seriesTitle, `${figure.label} per ${data.report.interval}`);
    this.charts.push(this.lineChart(labels, values, figure));
    if (dim === "agent") {
      this.charts.push(this.agentBars(values));
    } else if (OUTCOMES.some(([key]) => data.columns.some((c) => c.key === key))) {
      fill(this.stackedTitle, `Outcomes per ${data.report.interval}`);
      this.charts.push(this.outcomeBars(labels));
    } else {
      const first = data.columns[2];
      fill(this.stackedTitle, `${first.label} per ${data.report.interval}, by ${dim}`);
      this.charts.push(this.dimensionBars(labels, values, first));
    }
  }

  nameOf(dim, id) {
    return dim === "agent" ? this.names.get(id) || id : id;
  }

  /** One line per dimension value; an interval with no row is 0 for a count, a gap otherwise. */
  lineChart(labels, values, figure) {
    const { data } = this.shown;
    const cell = new Map(data.rows.map((row) => [`${row.interval_start}|${row.dimension}`, row[figure.key]]));
    const missing = figure.unit === "count" ? 0 : null;
    const datasets = values.map((v, i) => ({
      label: this.nameOf(data.report.dimension, v),
      data: labels.map((t) => (cell.has(`${t}|${v}`) ? cell.get(`${t}|${v}`) : missing)),
      borderColor: PALETTE[i % PALETTE.length],
      backgroundColor: PALETTE[i % PALETTE.length],
      spanGaps: false,
      tension: 0.2,
    }));
    return new Chart(this.series, {
      type: labels.length > 1 ? "line" : "bar",
      data: { labels: labels.map(intervalText), datasets },
      options: this.options({ y: { beginAtZero: true, ticks: { callback: (v) => (figure.unit === "ratio" ? `${Math.round(v * 100)} %` : v) } } }),
    });
  }

  /** Caller outcomes per interval, summed over the dimension values shown, stacked. */
  outcomeBars(labels) {
    const { data } = this.shown;
    const keys = OUTCOMES.filter(([key]) => data.columns.some((c) => c.key === key));
    const datasets = keys.map(([key, colour]) => ({
      label: data.columns.find((c) => c.key === key).label,
      data: labels.map((t) => data.rows.filter((row) => row.interval_start === t).reduce((sum, row) => sum + (row[key] || 0), 0)),
      backgroundColor: colour,
      stack: "outcomes",
    }));
    return new Chart(this.stacked, {
      type: "bar",
      data: { labels: labels.map(intervalText), datasets },
      options: this.options({ x: { stacked: true }, y: { stacked: true, beginAtZero: true } }),
    });
  }

  /** One report figure per interval, a stacked part per dimension value (codes, reasons). */
  dimensionBars(labels, values, figure) {
    const { data } = this.shown;
    const datasets = values.map((v, i) => ({
      label: v,
      data: labels.map((t) => {
        const row = data.rows.find((r) => r.interval_start === t && r.dimension === v);
        const value = row ? row[figure.key] || 0 : 0;
        return figure.unit === "seconds" ? value / 60 : value;
      }),
      backgroundColor: PALETTE[i % PALETTE.length],
      stack: "dimension",
    }));
    return new Chart(this.stacked, {
      type: "bar",
      data: { labels: labels.map(intervalText), datasets },
      options: this.options({ x: { stacked: true }, y: { stacked: true, beginAtZero: true } }),
    });
  }

  /** Each agent's logged-in time split into ready and paused, beside the time busy with calls;
   * in seconds, minutes or hours, whichever reads best for the longest bar. */
  agentBars(agents) {
    const { data } = this.shown;
    const total = (agent, key) => data.rows.filter((r) => r.dimension === agent).reduce((sum, r) => sum + (r[key] || 0), 0);
    const has = (key) => data.columns.some((c) => c.key === key);
    const parts = [
      ["ready", "Ready", "#1a7f37", "status"],
      ["paused", "Paused", "#9a6700", "status"],
      ["busy", "Busy with calls", "#1f6feb", "work"],
    ].filter(([key]) => has(key));
    const longest = Math.max(0, ...agents.map((a) => total(a, "ready") + total(a, "paused")), ...agents.map((a) => total(a, "busy")));
    const [unit, per] = longest >= 7200 ? ["hours", 3600] : longest >= 120 ? ["minutes", 60] : ["seconds", 1];
    fill(this.stackedTitle, `Agents' time (${unit})`);
    const datasets = parts.map(([key, text, colour, stack]) => ({
      label: text,
      data: agents.map((a) => Math.round((total(a, key) / per) * 100) / 100),
      backgroundColor: colour,
      stack,
    }));
    return new Chart(this.stacked, {
      type: "bar",
      data: { labels: agents.map((a) => this.nameOf("agent", a)), datasets },
      options: this.options({ x: { stacked: true, beginAtZero: true }, y: { stacked: true } }, "y"),
    });
  }

  options(scales, indexAxis = "x") {
    return {
      indexAxis,
      animation: false, // drawn at once: a report is read, not watched
      responsive: true,
      maintainAspectRatio: false,
      scales,
      plugins: { legend: { position: "bottom" } },
    };
  }
}

function field(text, input) {
  return h("label", { class: "filter" }, h("span", { class: "filter-label" }, text), input);
}

const page = new ReportsPage();
window.reportsPage = page; // for the browser tests and the developer console
if (!Chart) {
  fill(root, h("p", { class: "form-error" }, "The chart library did not load (/ui/vendor/chartjs)."));
} else {
  page.load().catch((err) => toast(err.message));
}
