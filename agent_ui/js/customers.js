// Customer search in the agent desktop (and the monitor): type a name, an account, an e-mail or
// phone digits; results come a page at a time from GET /api/customers. Choosing one shows the
// record with its latest calls (agents by name). Customer data is only ever set as text.

import { get } from "./api.js";
import { h, fill, toast } from "./dom.js";
import { duration, label, when } from "./time.js";

const PAGE = 10;
const TYPING_PAUSE = 250; // ms after the last key before searching

export class CustomerSearch {
  constructor(root) {
    this.root = root;
    this.query = "";
    this.results = [];
    this.total = 0;
    this.chosen = null;
    this.timer = null;
    this.build();
  }

  build() {
    this.input = h("input", { id: "customer-search", type: "search", placeholder: "Name, account, phone…", "aria-label": "Search customers", autocomplete: "off" });
    this.input.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.search(this.input.value.trim()), TYPING_PAUSE);
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        clearTimeout(this.timer);
        this.search(this.input.value.trim());
      }
    });
    this.list = h("div", { class: "customer-results", id: "customer-results" });
    fill(this.root, h("h2", {}, "Customers"), this.input, this.list);
  }

  async search(query, offset = 0) {
    this.query = query;
    this.chosen = null;
    if (!query) {
      this.results = [];
      this.total = 0;
      this.render();
      return;
    }
    try {
      const params = new URLSearchParams({ q: query, limit: String(PAGE), offset: String(offset) });
      const page = await get(`/api/customers?${params}`);
      if (query !== this.query) return; // a newer search is on its way
      this.results = offset ? [...this.results, ...page.customers] : page.customers;
      this.total = page.total;
      this.render();
    } catch (err) {
      toast(err.message);
    }
  }

  async open(id) {
    try {
      this.chosen = await get(`/api/customers/${encodeURIComponent(id)}`);
      this.render();
    } catch (err) {
      toast(err.message);
    }
  }

  render() {
    if (this.chosen) {
      fill(this.list, this.card(this.chosen));
      return;
    }
    if (!this.query) {
      fill(this.list);
      return;
    }
    if (!this.results.length) {
      fill(this.list, h("p", { class: "muted" }, "No customer matches."));
      return;
    }
    const items = this.results.map((c) =>
      h(
        "li",
        {},
        h(
          "button",
          { type: "button", class: "choice customer-hit", dataset: { customer: String(c.id) }, onclick: () => this.open(c.id) },
          h("strong", {}, c.name),
          c.vip ? h("span", { class: "badge vip" }, "VIP") : null,
          h("span", { class: "muted" }, ` ${c.account || "no account"} · ${c.phones.join(", ")}`),
        ),
      ),
    );
    const more =
      this.results.length < this.total
        ? h("button", { type: "button", class: "ghost", id: "customer-more", onclick: () => this.search(this.query, this.results.length) }, `More (${this.total - this.results.length})`)
        : null;
    fill(this.list, h("p", { class: "muted", id: "customer-count" }, `${this.total} found`), h("ul", { class: "choices" }, items), more);
  }

  card(c) {
    const rows = (c.history || []).map((item) =>
      h(
        "tr",
        {},
        h("td", {}, when(item.arrived_at)),
        h("td", {}, item.queue),
        h("td", { class: "history-agent" }, item.agent_name || item.agent_id || "—"),
        h("td", {}, label(item.outcome || "in progress"), item.wrapup_outcome ? ` · ${label(item.wrapup_outcome)}` : ""),
        h("td", { class: "num" }, item.wait === null || item.wait === undefined ? "—" : duration(item.wait)),
      ),
    );
    return h(
      "div",
      { class: "record customer-card", id: "customer-card" },
      h("div", { class: "record-title" }, h("h3", { class: "customer-name" }, c.name), c.vip ? h("span", { class: "badge vip" }, "VIP") : null, h("span", { class: "spacer" }),
        h("button", { type: "button", class: "ghost", onclick: () => ((this.chosen = null), this.render()) }, "Back")),
      h("dl", { class: "fields" },
        h("dt", {}, "Phones"), h("dd", {}, c.phones.join(", ")),
        h("dt", {}, "Account"), h("dd", {}, c.account || "—"),
        h("dt", {}, "E-mail"), h("dd", {}, c.email || "—"),
        h("dt", {}, "Notes"), h("dd", { class: "notes" }, c.notes || "—"),
      ),
      rows.length
        ? h("table", { class: "grid compact" }, h("thead", {}, h("tr", {}, ["When", "Queue", "Agent", "Outcome", "Wait"].map((t) => h("th", {}, t)))), h("tbody", {}, rows))
        : h("p", { class: "muted" }, "No calls yet."),
    );
  }
}
