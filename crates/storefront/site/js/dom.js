// Building the page: every piece of data goes in as text (textContent), never as HTML, so a
// product named `<img src=x onerror=alert(1)>` shows those characters and runs nothing.

/** h("p.muted", {attrs}, children...): an element; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(" ");
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function money(m) {
  if (!m) return "—";
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency: m.currency }).format(m.amount / 100);
  } catch {
    return `${(m.amount / 100).toFixed(2)} ${m.currency}`;
  }
}

export function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString();
}

export function age(iso) {
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** A labelled input with the place its error is written (`data-field` names the API's field). */
export function field(label, name, attrs = {}) {
  const id = `f-${name.replace(/\W/g, "-")}-${Math.random().toString(36).slice(2, 7)}`;
  const err = h("p.field-error", { id: `${id}-err` });
  const control = attrs.options
    ? h("select", { id, name, "aria-describedby": `${id}-err` }, attrs.options.map(([v, t]) => h("option", { value: v, selected: v === attrs.value }, t)))
    : h("input", { id, name, "aria-describedby": `${id}-err`, ...attrs, value: attrs.value ?? "" });
  return h("label", { for: id, "data-field": name }, h("span", {}, label), control, err);
}

/** Writes a problem beside the field it names in `form`, or in the form's alert. */
export function showProblem(container, problem) {
  clearProblems(container);
  const alert = container.querySelector(".alert");
  const name = problem && problem.field;
  const target = name && container.querySelector(`[data-field="${CSS.escape(name)}"]`);
  const words = problem && problem.message ? problem.message : "Something went wrong.";
  if (target) {
    const control = target.querySelector("input, select");
    if (control) control.setAttribute("aria-invalid", "true");
    const detail = problem.kind === "invalid-field" && problem.detail ? problem.detail : words;
    target.querySelector(".field-error").textContent = detail;
    control?.focus();
  } else if (alert) {
    alert.textContent = words;
  }
  return target || alert;
}

export function clearProblems(container) {
  container.querySelectorAll(".field-error").forEach((e) => (e.textContent = ""));
  container.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  const alert = container.querySelector(".alert");
  if (alert) alert.textContent = "";
}

export const alertBox = () => h("div.alert", { role: "alert" });
