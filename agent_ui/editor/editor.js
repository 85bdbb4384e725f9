// The admins' script editor. The XML file stays the source of truth: the text area holds the file,
// every pause in typing sends it to the server's checks (POST /api/scripts/check: problems with
// their line and step, and the tree of steps), the preview runs the draft on the server as an agent
// or a customer would (nothing is carried out), and Save writes the next version of the file
// (PUT /api/scripts/{id}; the server keeps the version it replaces).

import { ApiError, api, get, post } from "/ui/js/api.js";
import { h, fill, select, toast } from "/ui/js/dom.js";
import { questionField, stepTexts } from "/ui/js/scriptform.js";

const root = document.getElementById("editor");
const CHECK_DELAY = 400; // ms of quiet typing before the draft is checked

const TEMPLATE = (id) => `<?xml version="1.0" encoding="UTF-8"?>
<script xmlns="urn:callserver:script:1" id="${id}" version="1" start="start" language="en-GB">
  <title>New script</title>
  <step id="start" title="Welcome">
    <say>Hello {customer.name}.</say>
    <end/>
  </step>
</script>
`;

class Editor {
  constructor() {
    this.scriptId = null;
    this.timer = null;
    this.checking = 0;
    this.moves = { agent: [], customer: [] };
    this.build();
  }

  build() {
    this.picker = h("select", { id: "script-picker", "aria-label": "Script" });
    this.picker.addEventListener("change", () => this.open(this.picker.value));
    this.newId = h("input", { id: "new-id", placeholder: "new script id", "aria-label": "New script id", pattern: "[A-Za-z][A-Za-z0-9_-]*" });
    this.version = h("span", { id: "version", class: "muted" });
    this.source = h("textarea", { id: "source", spellcheck: "false", "aria-label": "Script XML", "aria-describedby": "check-state" });
    this.source.addEventListener("input", () => this.changed());
    this.state = h("span", { id: "check-state", class: "check-state" }, "");
    this.problems = h("ul", { class: "problems", id: "problems", "aria-label": "Problems" });
    this.tree = h("ol", { class: "tree", id: "tree", "aria-label": "Steps" });
    this.account = h("input", { id: "preview-account", placeholder: "account (optional)", "aria-label": "Preview with the customer of this account" });
    this.agentPreview = h("div", { id: "preview-agent", class: "card script" });
    this.customerPreview = h("div", { id: "preview-customer", class: "card script" });
    fill(
      root,
      h(
        "div",
        { class: "editor-bar" },
        h("label", { for: "script-picker" }, "Script"),
        this.picker,
        this.version,
        this.newId,
        h("button", { type: "button", id: "new-script", onclick: () => this.create() }, "New script"),
        h("span", { class: "spacer" }),
        h("button", { type: "button", class: "primary", id: "save", onclick: () => this.save() }, "Save as new version"),
      ),
      h(
        "div",
        { class: "editor-grid" },
        h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", {}, "Source"), this.state), this.source, this.problems),
        h("section", { class: "card" }, h("h2", {}, "Steps"), this.tree),
      ),
      h(
        "section",
        { class: "card preview" },
        h("div", { class: "card-head" }, h("h2", {}, "Preview"), this.account,
          h("button", { type: "button", id: "preview-restart", onclick: () => this.restartPreview() }, "Start again")),
        h("div", { class: "preview-grid" },
          h("div", {}, h("h3", {}, "As the agent"), this.agentPreview),
          h("div", {}, h("h3", {}, "As the customer on the web"), this.customerPreview)),
      ),
    );
  }

  async load() {
    let data;
    try {
      data = await get("/api/scripts");
    } catch (err) {
      const message = err instanceof ApiError && err.status === 401 ? "Log in as an admin first." : err.message;
      fill(root, h("p", { role: "alert" }, message, " ", h("a", { href: "/" }, "Log in")));
      return;
    }
    fill(this.picker, data.scripts.map((s) => h("option", { value: s.id }, `${s.id} · ${s.title}`)));
    if (data.scripts.length) await this.open(data.scripts[0].id);
  }

  async open(id) {
    try {
      const data = await get(`/api/scripts/${encodeURIComponent(id)}`);
      this.scriptId = id;
      this.picker.value = id;
      this.source.value = data.source;
      this.showVersion(data.version, data.kept_versions);
      this.showCheck(data.problems.length === 0 || data.problems.every((p) => p.warning), data.problems, data.tree);
      this.restartPreview();
    } catch (err) {
      toast(err.message);
    }
  }

  create() {
    const id = this.newId.value.trim();
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(id)) return toast("A script id is a letter, then letters, digits, _ or -");
    this.scriptId = id;
    if (![...this.picker.options].some((o) => o.value === id)) this.picker.appendChild(h("option", { value: id }, `${id} · (new)`));
    this.picker.value = id;
    this.source.value = TEMPLATE(id);
    this.showVersion(null, []);
    this.changed();
  }

  showVersion(version, kept) {
    const older = kept && kept.length ? ` · kept: ${kept.map((v) => `v${v}`).join(", ")}` : "";
    this.version.textContent = version ? `file at v${version}${older}` : "not saved yet";
  }

  changed() {
    clearTimeout(this.timer);
    this.state.textContent = "checking…";
    this.state.className = "check-state";
    this.timer = setTimeout(() => this.check(), CHECK_DELAY);
  }

  async check() {
    const ticket = ++this.checking;
    try {
      const data = await post("/api/scripts/check", { source: this.source.value });
      if (ticket !== this.checking) return; // a newer draft is being checked
      this.showCheck(data.ok, data.problems, data.tree);
      if (data.ok) this.restartPreview();
    } catch (err) {
      toast(err.message);
    }
  }

  showCheck(ok, problems, tree) {
    const errors = problems.filter((p) => !p.warning).length;
    this.state.textContent = ok ? (problems.length ? `valid, ${problems.length} warning(s)` : "valid") : `${errors} error(s)`;
    this.state.className = `check-state ${ok ? "ok" : "bad"}`;
    fill(
      this.problems,
      problems.map((p) =>
        h("li", { class: p.warning ? "warning" : "error" },
          h("button", { type: "button", onclick: () => this.goToLine(p.line) }, `${p.line ? `line ${p.line}: ` : ""}${p.step ? `step '${p.step}': ` : ""}${p.warning ? "warning: " : ""}${p.message}`)),
      ),
    );
    fill(
      this.tree,
      tree.map((s) =>
        h(
          "li",
          { class: `${s.start ? "start " : ""}${s.audience === "agent" ? "agent-only" : ""}`, dataset: { step: s.id } },
          h("button", { type: "button", class: "link-button", onclick: () => this.goToLine(s.line) }, h("strong", {}, s.title || s.id)),
          h("span", { class: "muted" }, ` ${s.id}${s.audience === "agent" ? " · agents only" : ""}`),
          s.question ? h("div", {}, `asks ${s.question.kind}: ${s.question.label}`) : null,
          s.actions.length ? h("div", { class: "goes" }, s.actions.join(" · ")) : null,
          h("div", { class: "goes" }, [
            ...s.branches.map((b) => `if ${b.when} → ${b.to}`),
            s.ends ? "ends" : `→ ${s.next}`,
          ].join("; ")),
        ),
      ),
    );
  }

  goToLine(line) {
    if (!line) return;
    const lines = this.source.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    this.source.focus();
    this.source.setSelectionRange(start, start + (lines[line - 1] || "").length);
    const height = this.source.scrollHeight / Math.max(1, lines.length);
    this.source.scrollTop = Math.max(0, (line - 5) * height);
  }

  restartPreview() {
    this.moves = { agent: [], customer: [] };
    this.preview("agent");
    this.preview("customer");
  }

  async preview(audience) {
    const target = audience === "agent" ? this.agentPreview : this.customerPreview;
    let data;
    try {
      data = await post("/api/scripts/preview", { source: this.source.value, audience, moves: this.moves[audience], account: this.account.value });
    } catch (err) {
      fill(target, h("p", { class: "muted" }, err.message));
      return;
    }
    const v = data.view;
    const error = data.error ? h("p", { class: "form-error", role: "alert" }, data.error) : null;
    const commands = data.commands.length
      ? h("ul", { class: "preview-commands" }, data.commands.map((c) => h("li", {}, `would ${c}`)))
      : null;
    if (v.status !== "active") {
      fill(target, h("p", { class: "script-ended" }, `Run ${v.status.replace("_", " ")}`), commands, error);
      return;
    }
    const field = v.question ? questionField(v.question) : null;
    const go = (move) => {
      this.moves[audience].push(move);
      this.preview(audience);
    };
    const back = () => go({ op: "back" });
    fill(
      target,
      h("h4", {}, v.title || v.step || ""),
      stepTexts(v.texts),
      field ? field.node : null,
      error,
      h(
        "div",
        { class: "button-row" },
        h("button", { type: "button", disabled: !v.can_back, onclick: back }, "Back"),
        h("button", { type: "button", class: "primary", onclick: () => go({ op: "next", value: field ? field.value() : null }) }, v.ends ? "Finish" : "Next"),
        v.handoff_label ? h("button", { type: "button", onclick: () => go({ op: "talk" }) }, v.handoff_label) : null,
      ),
      commands,
    );
    if (data.error) this.moves[audience].pop(); // the refused move is not kept
  }

  async save() {
    if (!this.scriptId) return toast("Choose or create a script first");
    try {
      const data = await api("PUT", `/api/scripts/${encodeURIComponent(this.scriptId)}`, { source: this.source.value });
      this.source.value = data.source;
      this.showVersion(data.version, data.kept_versions);
      this.showCheck(true, [], data.tree);
      toast(`Saved as version ${data.version}`, "ok");
    } catch (err) {
      if (err.body && Array.isArray(err.body.findings) && err.body.findings.length) {
        this.showCheck(false, err.body.findings, []);
      }
      toast(err.message);
    }
  }
}

const editor = new Editor();
window.callserverEditor = editor; // for the browser tests and the developer console
editor.load();
