// The screen-pop card: who is calling (one customer, a choice of several, or an unknown number),
// their record (editable), the queue and wait, what the IVR learnt (language, menu choices, digits
// typed, self-service), and their contact history (agents by name). Customer data is only ever
// set as text.

import { post, put } from "./api.js";
import { h, fill, toast } from "./dom.js";
import { duration, when, label } from "./time.js";
import { scriptHistory } from "./script.js";

export class PopCard {
  constructor(root) {
    this.root = root;
    this.pop = null;
    this.chosen = null; // customer id shown when there are several matches
    this.editing = false;
    this.render();
  }

  show(pop) {
    const same = this.pop && pop && this.pop.call_id === pop.call_id;
    this.pop = pop;
    if (!same) {
      this.editing = false;
      this.chosen = pop && pop.customers.length === 1 ? pop.customers[0].id : null;
    }
    this.render();
  }

  clear() {
    this.show(null);
  }

  customer() {
    if (!this.pop) return null;
    return this.pop.customers.find((c) => c.id === this.chosen) || null;
  }

  render() {
    const pop = this.pop;
    if (!pop) {
      fill(this.root, h("div", { class: "empty" }, "No caller. The caller's record appears here when a call is offered."));
      this.root.dataset.match = "";
      return;
    }
    this.root.dataset.match = pop.match;
    const head = h(
      "div",
      { class: "pop-head" },
      h("div", { class: "pop-number" }, h("span", { class: "muted" }, "Caller "), h("strong", { class: "caller-num" }, pop.caller_num || "withheld"),
        pop.caller_name ? h("span", { class: "muted" }, ` · ${pop.caller_name}`) : null),
      h(
        "div",
        { class: "pop-meta" },
        h("span", { class: "chip" }, "Queue ", h("strong", { class: "pop-queue" }, pop.queue)),
        h("span", { class: "chip" }, "Waited ", h("strong", { class: "pop-wait" }, duration(pop.wait))),
        pop.language ? h("span", { class: "chip" }, "Language ", h("strong", { class: "pop-language" }, pop.language)) : null,
      ),
      this.learnt(pop.ivr),
    );
    const customer = this.customer();
    let body;
    if (this.editing) body = this.form(customer);
    else if (customer) body = this.record(customer);
    else if (pop.match === "none") body = this.unknown();
    else body = this.choices();
    fill(this.root, head, body);
  }

  /** What the IVR learnt before the call reached the agent; nothing for calls without an IVR. */
  learnt(ivr) {
    if (!ivr) return null;
    const items = [];
    for (const c of ivr.choices || []) {
      items.push(h("li", { class: "ivr-choice" }, c.key === null ? `${label(c.menu)}: no key (→ ${label(c.to)})` : `${label(c.menu)}: pressed ${c.key} (→ ${label(c.to)})`));
    }
    for (const [name, value] of Object.entries(ivr.entered || {})) {
      items.push(h("li", { class: "ivr-entered" }, `${label(name)} typed: `, h("strong", {}, value)));
    }
    for (const s of ivr.self_service || []) {
      const text = s.kind === "lookup" ? `${label(s.node)}: ${s.result === "found" ? "found" : s.result === "several" ? "several matches" : "not found"}` : `heard ${label(s.node)}`;
      items.push(h("li", { class: "ivr-self-service" }, text));
    }
    return h(
      "div",
      { class: "ivr-learnt", id: "pop-ivr" },
      h("span", { class: "muted" }, `IVR ${ivr.flow}${ivr.language ? ` · ${ivr.language}` : ""}: `),
      items.length ? h("ul", { class: "inline-list" }, items) : h("span", { class: "muted" }, "nothing chosen"),
    );
  }

  unknown() {
    return h(
      "div",
      { class: "unknown" },
      h("p", { class: "unknown-title" }, "Unknown caller"),
      h("p", { class: "muted" }, "No customer record has the number ", h("strong", {}, this.pop.caller_num || "(withheld)"), "."),
      h("button", { type: "button", class: "primary", onclick: () => this.edit() }, "Create record"),
    );
  }

  choices() {
    const list = h("ul", { class: "choices" });
    for (const c of this.pop.customers) {
      list.appendChild(
        h(
          "li",
          {},
          h(
            "button",
            { type: "button", class: "choice", onclick: () => ((this.chosen = c.id), this.render()) },
            h("strong", {}, c.name),
            h("span", { class: "muted" }, ` ${c.account || "no account"} · ${c.phones.join(", ")}`),
            c.vip ? h("span", { class: "badge vip" }, "VIP") : null,
          ),
        ),
      );
    }
    return h("div", {}, h("p", { class: "muted" }, `${this.pop.customers.length} customers share this number: choose one.`), list);
  }

  record(c) {
    const fields = h(
      "dl",
      { class: "fields" },
      h("dt", {}, "Phones"), h("dd", { class: "c-phones" }, c.phones.join(", ")),
      h("dt", {}, "Account"), h("dd", { class: "c-account" }, c.account || "—"),
      h("dt", {}, "Language"), h("dd", { class: "c-language" }, c.language || "—"),
      h("dt", {}, "E-mail"), h("dd", { class: "c-email" }, c.email || "—"),
      h("dt", {}, "Notes"), h("dd", { class: "c-notes notes" }, c.notes || "—"),
    );
    const several = this.pop.customers.length > 1;
    return h(
      "div",
      { class: "record" },
      h(
        "div",
        { class: "record-title" },
        h("h2", { class: "customer-name" }, c.name),
        c.vip ? h("span", { class: "badge vip" }, "VIP") : null,
        h("span", { class: "spacer" }),
        several ? h("button", { type: "button", class: "ghost", onclick: () => ((this.chosen = null), this.render()) }, "Other matches") : null,
        h("button", { type: "button", class: "ghost", onclick: () => this.edit() }, "Edit"),
      ),
      fields,
      this.history(c.history || []),
      scriptHistory(c.scripts),
    );
  }

  history(items) {
    const section = h("section", { class: "history" }, h("h3", {}, "Contact history"));
    if (!items.length) {
      section.appendChild(h("p", { class: "muted" }, "No earlier calls."));
      return section;
    }
    const body = h("tbody");
    for (const item of items) {
      body.appendChild(
        h(
          "tr",
          {},
          h("td", {}, when(item.arrived_at)),
          h("td", {}, item.queue),
          h("td", { class: "history-agent" }, item.agent_name || item.agent_id || "—"),
          h(
            "td",
            {},
            h("span", { class: `outcome ${item.outcome || "open"}` }, label(item.outcome || "in progress")),
            item.wrapup_outcome ? h("span", { class: "wrap-code" }, label(item.wrapup_outcome)) : null,
          ),
          h("td", { class: "num" }, item.wait === null || item.wait === undefined ? "—" : duration(item.wait)),
          h("td", { class: "notes" }, item.wrapup_note || ""),
        ),
      );
    }
    section.appendChild(
      h(
        "table",
        { class: "grid compact" },
        h("thead", {}, h("tr", {}, ["When", "Queue", "Agent", "Outcome", "Wait", "Note"].map((t) => h("th", { class: t === "Wait" ? "num" : "" }, t)))),
        body,
      ),
    );
    return section;
  }

  edit() {
    this.editing = true;
    this.render();
  }

  form(c) {
    const input = (name, value, attrs = {}) => h("input", { name, id: `cf-${name}`, value: value || "", ...attrs });
    const vip = h("input", { type: "checkbox", name: "vip", id: "cf-vip" });
    vip.checked = Boolean(c && c.vip);
    const notes = h("textarea", { name: "notes", id: "cf-notes", rows: 3 });
    notes.value = (c && c.notes) || "";
    const phones = c ? c.phones.join(", ") : this.pop.caller_num || "";
    const form = h(
      "form",
      { class: "customer-form", onsubmit: (e) => this.save(e, form, c) },
      h("h2", {}, c ? "Edit customer" : "New customer"),
      h("div", { class: "form-grid" },
        h("label", { for: "cf-name" }, "Name"), input("name", c && c.name, { required: true, maxlength: 200 }),
        h("label", { for: "cf-phones" }, "Phones"), input("phones", phones, { required: true, placeholder: "comma separated" }),
        h("label", { for: "cf-account" }, "Account"), input("account", c && c.account),
        h("label", { for: "cf-email" }, "E-mail"), input("email", c && c.email, { type: "email" }),
        h("label", { for: "cf-language" }, "Language"), input("language", c && c.language, { placeholder: "fr, en-GB" }),
        h("label", { for: "cf-vip" }, "VIP"), vip,
        h("label", { for: "cf-notes" }, "Notes"), notes,
      ),
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "primary" }, c ? "Save" : "Create record"),
        h("button", { type: "button", class: "ghost", onclick: () => ((this.editing = false), this.render()) }, "Cancel"),
      ),
    );
    return form;
  }

  async save(event, form, existing) {
    event.preventDefault();
    const data = new FormData(form);
    const body = {
      name: data.get("name"),
      phones: String(data.get("phones")).split(/[,;\s]+/).filter(Boolean),
      account: data.get("account") || null,
      email: data.get("email") || null,
      language: data.get("language") || null,
      vip: form.elements.vip.checked,
      notes: data.get("notes") || "",
    };
    try {
      const saved = existing ? await put(`/api/customers/${existing.id}`, body) : await post("/api/customers", body);
      const history = existing ? existing.history || [] : [];
      const record = { ...saved, history };
      const others = this.pop.customers.filter((x) => x.id !== saved.id);
      this.pop = { ...this.pop, match: others.length ? "several" : "one", customers: [...others, record] };
      this.chosen = saved.id;
      this.editing = false;
      this.render();
      toast(existing ? "Customer saved" : "Customer created", "ok");
    } catch (err) {
      toast(err.message);
    }
  }
}
