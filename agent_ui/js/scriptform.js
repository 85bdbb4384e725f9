// A dialogue script's step as a form: the texts to read or show, and one question as the right
// native control (radio buttons, a date input, a text field), each with its label, its hint tied
// to it for screen readers, and the current answer filled in. Used by the agent's script panel,
// the public self-service page and the editor's preview. Everything is inserted as text.

import { h } from "./dom.js";

let counter = 0;

/** The step's texts: `say` as paragraphs; `note` (agents only) marked as a note. */
export function stepTexts(texts) {
  return texts.map((t) =>
    t.kind === "note"
      ? h("p", { class: "script-note" }, h("span", { class: "script-note-label" }, "Note: "), t.text)
      : h("p", { class: "script-say" }, t.text),
  );
}

/**
 * The question's control. Returns {node, value(), focus()}: `value()` is what to send (a string,
 * or null for no answer); the server checks it whatever the browser allowed.
 */
export function questionField(q, { yes = "Yes", no = "No" } = {}) {
  counter += 1;
  const id = `q${counter}`;
  const hintId = q.hint ? `${id}-hint` : null;
  const hint = q.hint ? h("p", { class: "script-hint", id: hintId }, q.hint) : null;
  const required = q.required ? h("span", { class: "script-required", "aria-hidden": "true" }, " *") : null;
  if (q.kind === "choice" || q.kind === "yes-no") {
    const options = q.kind === "yes-no" ? [{ value: "yes", label: yes }, { value: "no", label: no }] : q.options;
    const current = q.kind === "yes-no" ? (q.answer === "true" ? "yes" : q.answer === "false" ? "no" : null) : q.answer;
    const radios = options.map((o, i) => {
      const input = h("input", { type: "radio", name: id, id: `${id}-${i}`, value: o.value, required: q.required });
      input.checked = o.value === current;
      return h("div", { class: "script-option" }, input, h("label", { for: `${id}-${i}` }, o.label));
    });
    const node = h(
      "fieldset",
      { class: "script-question", "aria-describedby": hintId, "aria-required": q.required ? "true" : null },
      h("legend", {}, q.label, required),
      hint,
      radios,
    );
    return {
      node,
      value: () => {
        const picked = node.querySelector("input:checked");
        return picked ? picked.value : null;
      },
      focus: () => (node.querySelector("input:checked") || node.querySelector("input")).focus(),
    };
  }
  const attrs = { id, name: "answer", "aria-describedby": hintId, required: q.required, autocomplete: "off" };
  let input;
  if (q.kind === "text" && q.multiline) {
    input = h("textarea", { ...attrs, rows: 4, maxlength: q.max_length, minlength: q.min_length || null });
  } else if (q.kind === "date") {
    input = h("input", { ...attrs, type: "date", min: q.min, max: q.max });
  } else if (q.kind === "number" || q.kind === "amount") {
    const whole = q.kind === "number" && !q.decimals;
    input = h("input", { ...attrs, type: "text", inputmode: whole ? "numeric" : "decimal" });
  } else {
    input = h("input", { ...attrs, type: "text", maxlength: q.max_length, minlength: q.min_length || null });
  }
  input.value = q.answer ?? "";
  const node = h("div", { class: "script-question" }, h("label", { for: id }, q.label, required), hint, input);
  return {
    node,
    value: () => (input.value.trim() === "" ? null : input.value),
    focus: () => input.focus(),
  };
}
