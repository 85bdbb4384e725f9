// The supervisor's outbound monitor, below the queue tiles: one tile per campaign (mode and why,
// lines in flight and per agent, agents, the answer mix, the compliance meter over each legal
// window with the refusals by rule, leads left and when the list runs out), start / pause / stop,
// mode and target changes while running, the compliance report (CSV), a form to create a campaign,
// the CSV list import (column mapping, progress bar, every bad row with its line and column) and
// the do-not-call import. Tiles come as `campaign.stats` messages; GET /api/campaigns after a
// (re)connect or a change of campaigns.

import { get, post } from "./api.js";
import { h, fill, select, toast } from "./dom.js";
import { duration, label } from "./time.js";

const WINDOW_NAMES = { 86400: "24 h", 2592000: "30 days" };
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const pct = (x, digits = 0) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(digits)}%`);

export class CampaignMonitor {
  constructor(root, me) {
    this.me = me;
    this.campaigns = new Map(); // name -> {config, tile, lists}
    this.importing = null; // campaign name whose import panel is open
    this.drafts = new Map(); // name -> {mode, target} chosen on a tile but not yet sent
    this.tiles = h("div", { class: "campaign-tiles", id: "campaign-tiles" });
    this.panel = h("div", { class: "campaign-panel", id: "campaign-panel" });
    this.root = h("section", { class: "card outbound-monitor", id: "campaigns" },
      h("div", { class: "card-head" }, h("h2", {}, "Outbound campaigns"),
        h("div", { class: "button-row" },
          h("button", { type: "button", id: "new-campaign", onclick: () => this.showCreate() }, "New campaign"),
          h("button", { type: "button", id: "dnc-import", onclick: () => this.showDnc() }, "Import do-not-call numbers"))),
      this.panel, this.tiles);
    root.appendChild(this.root);
    this.load();
  }

  async load() {
    try {
      const data = await get("/api/campaigns");
      this.campaigns.clear();
      for (const c of data.campaigns) this.campaigns.set(c.config.name, c);
    } catch (err) {
      if (err.status !== 404) toast(err.message);
    }
    this.render();
  }

  apply(type, d) {
    switch (type) {
      case "snapshot":
      case "campaign.saved":
      case "campaign.list_imported":
        this.load();
        return;
      case "campaign.stats": {
        const c = this.campaigns.get(d.campaign);
        if (!c) return this.load();
        c.tile = d;
        this.renderTile(c);
        return;
      }
      case "campaign.state":
      case "campaign.mode": {
        const c = this.campaigns.get(d.campaign);
        if (c) {
          if (type === "campaign.state") c.tile.state = d.new;
          else Object.assign(c.tile, { mode: d.new, mode_reason: d.reason });
          this.renderTile(c);
        }
        return;
      }
      default:
    }
  }

  render() {
    const names = [...this.campaigns.keys()].sort();
    if (!names.length) {
      fill(this.tiles, h("p", { class: "muted" }, "No campaign yet."));
      return;
    }
    fill(this.tiles, names.map((n) => this.tile(this.campaigns.get(n))));
  }

  renderTile(c) {
    const old = this.tiles.querySelector(`[data-campaign="${CSS.escape(c.config.name)}"]`);
    if (!old) return this.render();
    // the tiles are redrawn every second: the control being used keeps its focus
    const active = document.activeElement;
    const focused = active && old.contains(active) ? [...active.classList].find((k) => k === "mode-select" || k === "target-input") : null;
    const tile = this.tile(c);
    old.replaceWith(tile);
    if (focused) tile.querySelector(`.${focused}`).focus();
  }

  tile(c) {
    const t = c.tile;
    const name = c.config.name;
    const stat = (title, value, cls = "", id = "") => h("div", { class: `stat ${cls}`, dataset: id ? { stat: id } : {} },
      h("span", { class: "stat-value" }, value), h("span", { class: "stat-label" }, title));
    const meter = t.windows.map((w) => {
      const cap = w.cap;
      const level = cap ? (w.rate >= cap ? "over" : w.rate >= cap * 0.8 ? "warn" : "ok") : "ok";
      return h("div", { class: `meter ${level}`, dataset: { window: String(w.window) } },
        h("span", { class: "meter-label" }, WINDOW_NAMES[w.window] || `${w.window / 3600} h`),
        h("meter", { min: 0, max: cap || 0.03, value: Math.min(w.rate, cap || 0.03) }),
        h("span", { class: "meter-value" }, `${pct(w.rate, 2)} abandoned of ${Math.round(w.live)} answered`),
        cap ? h("span", { class: "meter-cap" }, ` · cap ${pct(cap)}`) : null);
    });
    const refusals = Object.entries(t.refusals_by_rule || {}).map(([rule, n]) => `${label(rule)} ${n}`).join(" · ");
    const draft = this.drafts.get(name) || {};
    const mode = select({ class: "mode-select", "aria-label": `Mode of ${name}` }, ["preview", "progressive", "predictive"], draft.mode ?? t.chosen_mode);
    const target = h("input", { class: "target-input", type: "number", min: 0, max: (t.cap * 100).toFixed(1), step: 0.1,
      placeholder: "auto", value: draft.target ?? (t.abandon_target === null ? "" : (t.abandon_target * 100).toFixed(1)), "aria-label": `Abandon target of ${name} (%)` });
    const keep = (key, el) => el.addEventListener("input", () => this.drafts.set(name, { ...this.drafts.get(name), [key]: el.value }));
    keep("mode", mode);
    keep("target", target);
    const running = t.state === "running";
    return h("article", { class: `tile campaign-tile ${t.state}`, dataset: { campaign: name, state: t.state, mode: t.mode } },
      h("div", { class: "tile-head" },
        h("h3", {}, name),
        h("span", { class: `badge run-state ${t.state}` }, label(t.state)),
        h("span", { class: `badge mode ${t.mode}` }, label(t.mode))),
      t.mode_reason ? h("p", { class: "muted small-text mode-reason" }, t.mode_reason) : null,
      h("div", { class: "stats" },
        stat("lines in flight", String(t.lines_in_flight), "", "lines"),
        stat("lines / agent", `${t.lines_per_agent.toFixed(2)} (max ${t.max_lines_per_agent})`, "", "lines-per-agent"),
        stat("agents talking / free", `${t.agents_talking} / ${t.agents_free} of ${t.agents}`, "", "agents"),
        stat("person / machine / no answer", `${pct(t.person_rate)} / ${pct(t.machine_rate)} / ${pct(t.no_answer_rate)}`, "", "mix"),
        stat("dials", String(t.dials), "", "dials"),
        stat("leads left", `${t.leads_left} of ${t.leads_total}`, "", "leads"),
        stat("penetration", pct(t.penetration), "", "penetration"),
        stat("list runs out in", t.list_runs_out_in === null ? "—" : duration(t.list_runs_out_in), "", "runs-out")),
      h("div", { class: "compliance", dataset: { rules: t.rule_set } },
        h("h4", {}, `Compliance · ${t.rule_set.toUpperCase()}`), meter,
        h("p", { class: "small-text refusals" }, `Refused by the rules: ${t.refusals}`, refusals ? ` (${refusals})` : "")),
      h("div", { class: "button-row" },
        h("button", { type: "button", class: "primary", disabled: running, dataset: { act: "start" }, onclick: () => this.run(name, "start") }, t.state === "paused" ? "Resume" : "Start"),
        h("button", { type: "button", disabled: !running, dataset: { act: "pause" }, onclick: () => this.run(name, "pause") }, "Pause"),
        h("button", { type: "button", class: "danger", disabled: t.state === "stopped", dataset: { act: "stop" }, onclick: () => this.run(name, "stop") }, "Stop")),
      h("div", { class: "button-row" },
        mode, h("button", { type: "button", class: "small", dataset: { act: "mode" }, onclick: () => this.send(name, "mode", { mode: mode.value }) }, "Set mode"),
        target, h("button", { type: "button", class: "small", dataset: { act: "target" }, onclick: () => this.send(name, "target", { abandon_target: target.value === "" ? null : Number(target.value) / 100 }) }, "Set target %")),
      h("div", { class: "button-row" },
        h("button", { type: "button", class: "small", dataset: { act: "import" }, onclick: () => this.showImport(name) }, "Import a list"),
        h("a", { href: `/api/campaigns/${encodeURIComponent(name)}/report.csv`, class: "report-link", download: `${name}-attempts.csv` }, "Compliance report (CSV)"),
        h("a", { href: `/api/campaigns/${encodeURIComponent(name)}/refusals.csv`, download: `${name}-refusals.csv` }, "Refusals (CSV)")),
      c.lists.length ? h("p", { class: "muted small-text" }, `Lists: ${c.lists.join(", ")}`) : null);
  }

  async run(name, verb) {
    await this.send(name, verb, {});
  }

  async send(name, verb, body) {
    try {
      const view = await post(`/api/campaigns/${encodeURIComponent(name)}/${verb}`, body);
      if (verb === "mode" || verb === "target") this.drafts.delete(name);
      this.campaigns.set(name, view);
      this.renderTile(view);
    } catch (err) {
      toast(err.message);
    }
  }

  // -- creating a campaign -----------------------------------------------------------------

  showCreate() {
    const input = (id, attrs = {}) => h("input", { id, name: id, ...attrs });
    const days = h("span", { class: "days" }, DAYS.map((d, i) =>
      h("label", {}, h("input", { type: "checkbox", name: "day", value: d, checked: i < 5 }), ` ${d}`)));
    const form = h("form", { id: "campaign-form", class: "campaign-form", onsubmit: (e) => this.create(e) },
      h("h3", {}, "New campaign"),
      h("div", { class: "form-grid" },
        h("label", { for: "c-name" }, "Name"), input("c-name", { required: true, pattern: "[A-Za-z][A-Za-z0-9_\\-]*", maxlength: 40 }),
        h("label", { for: "c-mode" }, "Mode"), select({ id: "c-mode" }, ["preview", "progressive", "predictive"], "progressive"),
        h("label", { for: "c-rules" }, "Jurisdiction"), select({ id: "c-rules" }, [["us", "United States (FTC, FCC)"], ["uk", "United Kingdom (Ofcom)"], ["fr", "France (décret 2022-1313)"], ["none", "None (internal)"]], "us"),
        h("label", { for: "c-caller-id" }, "Caller id"), input("c-caller-id", { placeholder: "+12025550100" }),
        h("label", { for: "c-caller-name" }, "Caller name"), input("c-caller-name", { placeholder: "said in the information message" }),
        h("label", { for: "c-agents" }, "Agents"), input("c-agents", { placeholder: "agent ids, comma separated (empty: by skills)" }),
        h("label", { for: "c-skills" }, "Skills"), input("c-skills", { placeholder: "skills every agent needs" }),
        h("label", {}, "Calling window"), h("span", {}, days, " ", input("c-start", { type: "time", value: "09:00" }), " – ", input("c-end", { type: "time", value: "20:00" })),
        h("label", { for: "c-amd" }, "Answering machines"), h("span", {},
          h("label", {}, input("c-amd", { type: "checkbox" }), " detect (AMD)"), " ",
          select({ id: "c-machines", "aria-label": "Then" }, [["hang_up", "hang up"], ["leave_message", "leave a message"], ["connect", "give to an agent if free"]], "hang_up")),
        h("label", { for: "c-inbound" }, "Inbound first"), input("c-inbound", { type: "checkbox", checked: true }),
        h("label", { for: "c-ring" }, "Ring (s)"), input("c-ring", { type: "number", value: 25, min: 5, max: 120 }),
        h("label", { for: "c-max-attempts" }, "Attempts per lead"), input("c-max-attempts", { type: "number", value: 10, min: 1 }),
        h("label", { for: "c-outcomes" }, "Outcome codes"),
        h("textarea", { id: "c-outcomes", rows: 5, placeholder: "code | label | final,refusal,dnc,success | retry after hours\nsale | Sale | final,success" }),
        h("label", { for: "c-script" }, "Script"), input("c-script", { placeholder: "dialogue script name (optional)" })),
      h("div", { class: "button-row" },
        h("button", { type: "submit", class: "primary", id: "campaign-create" }, "Create"),
        h("button", { type: "button", onclick: () => fill(this.panel) }, "Cancel")));
    fill(this.panel, form);
  }

  async create(event) {
    event.preventDefault();
    const f = event.target;
    const val = (id) => f.querySelector(`#${id}`).value.trim();
    const list = (id) => val(id).split(/[,\s]+/).filter(Boolean);
    const body = {
      name: val("c-name"),
      mode: val("c-mode"),
      rule_set: val("c-rules"),
      caller_id: val("c-caller-id"),
      caller_name: val("c-caller-name"),
      agents: list("c-agents"),
      skills: list("c-skills"),
      inbound_priority: f.querySelector("#c-inbound").checked,
      amd: { enabled: f.querySelector("#c-amd").checked },
      machine_handling: val("c-machines"),
      ring_timeout: Number(val("c-ring")) || 25,
      retry: { max_attempts: Number(val("c-max-attempts")) || 10 },
      windows: [{ days: [...f.querySelectorAll("input[name=day]:checked")].map((c) => c.value), start: val("c-start"), end: val("c-end") }],
    };
    if (!body.windows[0].days.length) delete body.windows;
    const codes = val("c-outcomes").split("\n").map((l) => l.trim()).filter(Boolean).map((line) => {
      const [code, lab, flags = "", hours = ""] = line.split("|").map((x) => x.trim());
      const set = new Set(flags.split(/[,\s]+/).filter(Boolean));
      const o = { code, label: lab || "", final: set.has("final"), refusal: set.has("refusal"), dnc: set.has("dnc"), success: set.has("success") };
      if (hours) o.retry_after = Number(hours) * 3600;
      return o;
    });
    if (codes.length) body.outcome_codes = codes;
    if (val("c-script")) body.script = val("c-script");
    try {
      const view = await post("/api/campaigns", body);
      this.campaigns.set(view.config.name, view);
      fill(this.panel);
      this.render();
      toast(`Campaign ${view.config.name} created`, "ok");
    } catch (err) {
      toast(err.message);
    }
  }

  // -- importing a list ---------------------------------------------------------------------

  showImport(name) {
    this.importing = name;
    const file = h("input", { type: "file", id: "import-file", accept: ".csv,text/csv" });
    const mapping = h("div", { class: "form-grid", id: "import-mapping" });
    const listName = h("input", { id: "import-list-name", placeholder: "list name", maxlength: 64 });
    const progress = h("progress", { id: "import-progress", max: 1, value: 0, hidden: true });
    const result = h("div", { id: "import-result" });
    const go = h("button", { type: "button", class: "primary", id: "import-go", disabled: true }, "Import");
    let text = "";
    file.addEventListener("change", async () => {
      const chosen = file.files && file.files[0];
      if (!chosen) return;
      text = await chosen.text();
      if (!listName.value) listName.value = chosen.name.replace(/\.[^.]*$/, "");
      const header = splitCsvLine(text.split(/\r?\n/, 1)[0] || "");
      const guess = (words) => header.find((c) => words.some((w) => c.toLowerCase().includes(w))) || "";
      const pick = (id, caption, words, optional = true) => [
        h("label", { for: id }, caption),
        select({ id }, [...(optional ? [["", "—"]] : []), ...header], guess(words) || (optional ? "" : header[0])),
      ];
      fill(mapping,
        pick("map-phone", "Phone", ["phone", "tel", "number", "mobile"], false),
        pick("map-phone2", "Second phone", ["mobile", "cell"]),
        pick("map-id", "Lead id", ["ref", "id"]),
        pick("map-tz", "Time zone", ["zone", "tz"]),
        pick("map-priority", "Priority", ["prio"]),
        pick("map-region", "Country", ["country", "region"]));
      go.disabled = false;
    });
    go.addEventListener("click", () => this.upload(name, text, listName.value.trim(), progress, result, go));
    fill(this.panel, h("div", { class: "import-panel", id: "import-panel" },
      h("h3", {}, `Import a list into ${name}`),
      h("div", { class: "button-row" }, file, listName),
      mapping,
      h("div", { class: "button-row" }, go, h("button", { type: "button", onclick: () => fill(this.panel) }, "Close")),
      progress, result));
  }

  async upload(name, text, listName, progress, result, go) {
    if (!listName) return toast("Give the list a name");
    const val = (id) => this.panel.querySelector(`#${id}`).value;
    const params = new URLSearchParams({ list: listName, stream: "1", phone: [val("map-phone"), val("map-phone2")].filter(Boolean).join(",") });
    for (const [key, id] of [["id", "map-id"], ["time_zone", "map-tz"], ["priority", "map-priority"], ["region", "map-region"]]) {
      if (val(id)) params.set(key, val(id));
    }
    go.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    fill(result, h("span", { class: "muted" }, "Reading the list…"));
    try {
      const resp = await fetch(`/api/campaigns/${encodeURIComponent(name)}/lists?${params}`, {
        method: "POST", body: text, credentials: "same-origin", headers: { "X-Callserver": "1", "Content-Type": "text/csv" },
      });
      if (!resp.ok) {
        const data = await resp.json().catch(() => ({}));
        throw new Error(data.error || `${resp.status} ${resp.statusText}`);
      }
      const reader = resp.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (value) buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, cut).trim();
          buffer = buffer.slice(cut + 1);
          if (!line) continue;
          const msg = JSON.parse(line);
          if (msg.report) this.showReport(msg.report, progress, result);
          else {
            progress.max = Math.max(1, msg.total);
            progress.value = msg.progress;
            fill(result, h("span", { class: "muted" }, `${msg.progress} of ${msg.total} rows read`));
          }
        }
        if (done) break;
      }
    } catch (err) {
      fill(result, h("p", { class: "form-error" }, err.message));
    }
    go.disabled = false;
  }

  showReport(report, progress, result) {
    progress.value = progress.max;
    if (report.ok) {
      fill(result, h("p", { class: "import-ok", id: "import-ok" },
        `${report.leads} leads imported from ${report.rows} rows`,
        report.duplicates.length ? `, ${report.duplicates.length} duplicates left out` : "",
        report.dnc.length ? `, ${report.dnc.length} numbers on a do-not-call list` : "", "."));
      this.load();
      return;
    }
    const rows = report.errors.map((e) => h("tr", {}, h("td", { class: "num" }, String(e.line)), h("td", {}, e.column), h("td", {}, e.message)));
    fill(result,
      h("p", { class: "form-error", id: "import-refused" }, `Nothing imported: ${report.errors.length + report.more_errors} problems. Fix them and import again.`),
      h("table", { class: "grid", id: "import-errors" }, h("thead", {}, h("tr", {}, h("th", {}, "Line"), h("th", {}, "Column"), h("th", {}, "Problem"))), h("tbody", {}, rows)));
  }

  // -- do-not-call ------------------------------------------------------------------------------

  showDnc() {
    const scope = select({ id: "dnc-scope", "aria-label": "List" }, [["", "Global list"], ...[...this.campaigns.keys()].map((n) => [n, `Campaign ${n}`])], "");
    const numbers = h("textarea", { id: "dnc-numbers", rows: 5, placeholder: "one number per line (or paste a CSV: its first column)" });
    const result = h("div", { id: "dnc-result" });
    fill(this.panel, h("div", { class: "import-panel" },
      h("h3", {}, "Import do-not-call numbers"), scope, numbers,
      h("div", { class: "button-row" },
        h("button", { type: "button", class: "primary", id: "dnc-go", onclick: async () => {
          const params = scope.value ? `?campaign=${encodeURIComponent(scope.value)}` : "";
          const resp = await fetch(`/api/dnc${params}`, { method: "POST", body: numbers.value, credentials: "same-origin", headers: { "X-Callserver": "1", "Content-Type": "text/csv" } });
          const data = await resp.json().catch(() => ({}));
          if (data.ok) fill(result, h("p", { class: "import-ok" }, `${data.added} numbers added.`));
          else fill(result, h("p", { class: "form-error" }, data.error || (data.errors || []).map((e) => `line ${e.line}: ${e.message}`).join("; ")));
        } }, "Add"),
        h("button", { type: "button", onclick: () => fill(this.panel) }, "Close")),
      result));
  }
}

/** The cells of one CSV line (quotes understood; enough for a header). */
export function splitCsvLine(line) {
  const out = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") { out.push(cur.trim()); cur = ""; }
    else cur += ch;
  }
  out.push(cur.trim());
  return out.filter((c) => c !== "");
}
