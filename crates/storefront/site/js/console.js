// The operator console (the admin group only: hidden from others, and the API refuses them
// anyway): products, customers' credit limits, and the operations view of the saga.
import { api, apiTagged, allPages, ApiProblem } from "./api.js";
import * as auth from "./auth.js";
import { h, money, when, age, field, showProblem, clearProblems, alertBox } from "./dom.js";

const STUCK_AFTER_MS = 30_000;

function consoleNav() {
  return h(
    "nav.row",
    { "aria-label": "Console" },
    h("a", { href: "#/console" }, "Products"),
    h("a", { href: "#/console/new" }, "New product"),
    h("a", { href: "#/console/customers" }, "Customers"),
    h("a", { href: "#/console/operations" }, "Operations"),
  );
}

/** Admins only; anyone else is told so (the API would refuse them anyway). */
function guard(app) {
  if (auth.token() && auth.isAdmin()) return true;
  app.render(h("h1", {}, "Operator console"), h("p", {}, "The console is for the shop's operators. ", h("a", { href: "#/signin" }, "Sign in as an operator")));
  return false;
}

const toCents = (text) => {
  const m = /^\s*(\d{1,12})(?:\.(\d{1,2}))?\s*$/.exec(text);
  return m ? Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0")) : null;
};

export async function products(app) {
  if (!guard(app)) return;
  const { items, complete } = await allPages("/products?limit=100", 10);
  const rows = items.map((p) =>
    h(
      "tr",
      { "data-product": p.id },
      h("td", {}, h("a", { href: `#/console/product/${p.id}` }, p.name)),
      h("td", {}, money(p.price)),
      h("td", {}, p.stock),
      h("td", {}, p.available),
      h("td", {}, p.discontinued ? "Discontinued" : "On sale"),
    ),
  );
  app.render(
    h("h1", {}, "Operator console: products"),
    consoleNav(),
    h("div.table-wrap", {}, h("table", {}, h("thead", {}, h("tr", {}, ["Product", "Price", "On hand", "Available", "Status"].map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rows))),
    complete ? null : h("p.muted", {}, "Showing the first 1000 products."),
  );
}

export function newProduct(app) {
  if (!guard(app)) return;
  const alert = alertBox();
  const form = h(
    "form",
    { "aria-label": "New product", novalidate: true },
    field("Name", "name", { required: true, maxlength: 120 }),
    field("Price in USD (e.g. 12.50)", "amount", { required: true, inputmode: "decimal" }),
    field("Weight in grams", "weightGrams", { type: "number", min: 1, required: true }),
    h("fieldset", {}, h("legend", {}, "Size in cm"), field("Length", "length", { type: "number", min: 1 }), field("Width", "width", { type: "number", min: 1 }), field("Height", "height", { type: "number", min: 1 })),
    field("Stock", "stock", { type: "number", min: 0, value: 0 }),
    alert,
    h("button", { type: "submit" }, "Create product"),
  );
  const key = crypto.randomUUID(); // one product per form, however often it is sent
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearProblems(form);
    const n = (f) => Number(form.elements.namedItem(f).value);
    const cents = toCents(form.elements.amount.value);
    if (cents === null) return showProblem(form, { field: "amount", kind: "invalid-field", detail: "Write the price as a number of dollars, e.g. 12.50." });
    try {
      const p = await api("POST", "/products", {
        headers: { "idempotency-key": key },
        body: {
          name: form.elements.namedItem("name").value.trim(),
          price: { amount: cents, currency: "USD" },
          weightGrams: n("weightGrams"),
          dimensionsCm: { length: n("length"), width: n("width"), height: n("height") },
          stock: n("stock"),
        },
      });
      app.say(`Created ${p.name}.`);
      app.go(`#/console/product/${p.id}`);
    } catch (err) {
      showProblem(form, err);
    }
  });
  app.render(h("h1", {}, "New product"), consoleNav(), form);
}

export async function editProduct(app, id) {
  if (!guard(app)) return;
  let p, etag;
  try {
    ({ value: p, etag } = await apiTagged("GET", `/products/${id}`, { auth: false }));
  } catch (e) {
    if (e instanceof ApiProblem && e.status === 404) return app.render(h("h1", {}, "Product not found"), consoleNav());
    throw e;
  }
  // Every write names the revision this page shows (If-Match): the API refuses it with a 412,
  // writing nothing, if the product changed since, however close the other change came.
  const ifMatch = etag ? { "if-match": etag } : {};
  const conflict = h("div", { id: "conflict" });
  const alert = alertBox();
  const reload = () => editProduct(app, id);

  /** Another page changed the product since this one loaded it (the API answered 412): explain
   * what it is now, offer a reload. */
  async function explainConflict() {
    const now = await api("GET", `/products/${id}`, { auth: false }).catch(() => null);
    conflict.replaceChildren(
      h(
        "div.alert",
        { role: "alert" },
        h("p", {}, "Someone else changed this product after you opened it", now ? ` (it is now “${now.name}” at ${money(now.price)}, ${now.stock} on hand)` : "", ". Your change was not saved, so theirs is not lost."),
        h("button", { type: "button", onclick: reload }, "Reload the product"),
      ),
    );
  }
  async function guarded(form, action) {
    clearProblems(form);
    conflict.replaceChildren();
    try {
      const updated = await action();
      app.say(`Saved ${updated.name}.`);
      editProduct(app, id);
    } catch (err) {
      if (err instanceof ApiProblem && (err.kind === "precondition-failed" || err.kind === "conflict")) await explainConflict();
      else showProblem(form, err);
    }
  }

  const edit = h(
    "form",
    { "aria-label": "Rename or reprice", novalidate: true },
    field("Name", "name", { value: p.name, required: true, maxlength: 120 }),
    field("Price in USD", "amount", { value: (p.price.amount / 100).toFixed(2), inputmode: "decimal" }),
    h("div.alert", { role: "alert" }),
    h("button", { type: "submit", id: "save-product" }, "Save name and price"),
  );
  edit.addEventListener("submit", (e) => {
    e.preventDefault();
    const cents = toCents(edit.elements.namedItem("amount").value);
    if (cents === null) return showProblem(edit, { field: "amount", kind: "invalid-field", detail: "Write the price as a number of dollars, e.g. 12.50." });
    guarded(edit, () => api("PATCH", `/products/${id}`, { headers: ifMatch, body: { name: edit.elements.namedItem("name").value.trim(), price: { amount: cents, currency: p.price.currency } } }));
  });

  const restockKey = crypto.randomUUID();
  const restock = h(
    "form",
    { "aria-label": "Restock", novalidate: true },
    field("Units to add", "quantity", { type: "number", min: 1, max: 1000000, value: 10 }),
    h("div.alert", { role: "alert" }),
    h("button", { type: "submit", id: "restock" }, "Restock"),
  );
  restock.addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(restock, () => api("POST", `/products/${id}/restock`, { headers: { ...ifMatch, "idempotency-key": restockKey }, body: { quantity: Number(restock.elements.quantity.value) } }));
  });

  const discontinue = h(
    "form",
    { "aria-label": "Discontinue" },
    h("div.alert", { role: "alert" }),
    h("button.danger", { type: "submit", disabled: p.discontinued }, p.discontinued ? "Discontinued" : "Discontinue (no new orders)"),
  );
  discontinue.addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(discontinue, () => api("POST", `/products/${id}/discontinue`, { headers: ifMatch }));
  });

  app.render(
    h("h1", {}, `Edit: ${p.name}`),
    consoleNav(),
    h("p", { id: "product-facts" }, `${money(p.price)} · ${p.stock} on hand · ${p.available} available${p.discontinued ? " · discontinued" : ""}`),
    conflict,
    alert,
    h("h2", {}, "Name and price"),
    edit,
    h("h2", {}, "Stock"),
    restock,
    h("h2", {}, "Sale"),
    discontinue,
  );
}

export async function customers(app, id) {
  if (!guard(app)) return;
  const lookup = h("form.row", { "aria-label": "Find a customer" }, field("Customer id", "customerId", { value: id || "", required: true }), h("button", { type: "submit" }, "Find"));
  lookup.addEventListener("submit", (e) => {
    e.preventDefault();
    app.go(`#/console/customers/${encodeURIComponent(lookup.elements.customerId.value.trim())}`);
  });
  const parts = [h("h1", {}, "Customers: credit limits"), consoleNav(), h("p.muted", {}, "Customer ids appear on the operations view's orders."), lookup];
  if (!id) return app.render(parts);
  let c;
  try {
    c = await api("GET", `/customers/${id}`);
  } catch (e) {
    return app.render(parts, h("p.alert", { role: "alert" }, e instanceof ApiProblem && (e.status === 404 || e.status === 400) ? "No customer has that id." : e.message));
  }
  const form = h(
    "form",
    { "aria-label": "Credit limit", novalidate: true },
    field("New credit limit in USD", "amount", { value: (c.creditLimit.amount / 100).toFixed(2), inputmode: "decimal" }),
    h("div.alert", { role: "alert" }),
    h("button", { type: "submit" }, "Change the credit limit"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearProblems(form);
    const cents = toCents(form.elements.amount.value);
    if (cents === null) return showProblem(form, { field: "amount", kind: "invalid-field", detail: "Write the limit as a number of dollars, e.g. 500.00." });
    try {
      await api("PUT", `/customers/${id}/credit-limit`, { body: { creditLimit: { amount: cents, currency: c.creditLimit.currency } } });
      app.say("Credit limit changed.");
      customers(app, id);
    } catch (err) {
      showProblem(form, err);
    }
  });
  app.render(
    parts,
    h("h2", {}, c.name),
    h("p", { id: "customer-credit" }, `Credit limit ${money(c.creditLimit)} · available ${money(c.availableCredit)}`),
    form,
  );
}

export async function operations(app) {
  if (!guard(app)) return;
  const statuses = ["PENDING", "APPROVED", "REJECTED", "CANCELLED"];
  // GET /orders reads one page of the ByStatus index per request, oldest first.
  const lists = await Promise.all(statuses.map((s) => allPages(`/orders?status=${s}&limit=100`, 10)));
  const funnel = h(
    "ul.funnel",
    { "aria-label": "Saga funnel" },
    statuses.map((s, i) => h("li", { "data-status": s }, h("strong", {}, `${lists[i].items.length}${lists[i].complete ? "" : "+"}`), s.toLowerCase())),
  );
  const now = Date.now();
  const rows = [];
  statuses.forEach((s, i) => {
    for (const o of lists[i].items) rows.push({ o, stuck: s === "PENDING" && now - new Date(o.createdAt).getTime() > STUCK_AFTER_MS });
  });
  // Stuck PENDING first (oldest first), then the rest newest first.
  rows.sort((a, b) => (a.stuck !== b.stuck ? (a.stuck ? -1 : 1) : a.stuck ? new Date(a.o.createdAt) - new Date(b.o.createdAt) : new Date(b.o.createdAt) - new Date(a.o.createdAt)));
  const table = rows.slice(0, 200).map(({ o, stuck }) =>
    h(
      "tr",
      { "data-order": o.id },
      h("td", {}, h("span", { class: `state state-${o.state}` }, o.state), stuck ? h("strong.bad", {}, " stuck") : null),
      h("td", {}, age(o.createdAt)),
      h("td", {}, money(o.total)),
      h("td", {}, h("a", { href: `#/order/${o.id}` }, "Timeline")),
      h("td", {}, h("a", { href: `#/console/customers/${o.customerId}` }, "Customer")),
    ),
  );
  app.render(
    h("h1", {}, "Operations"),
    consoleNav(),
    h("h2", {}, "Saga funnel"),
    funnel,
    h("p.muted", {}, `Orders by state. PENDING for more than ${STUCK_AFTER_MS / 1000} s counts as stuck; the sweeper rejects it after its timeout.`),
    h("h2", {}, "Orders"),
    h("div.table-wrap", {}, h("table", {}, h("thead", {}, h("tr", {}, ["State", "Age", "Total", "Timeline", "Customer"].map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, table))),
    h("p.muted", {}, `As of ${when(new Date(now).toISOString())}.`),
  );
}
