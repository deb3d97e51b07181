// The shopper's views: catalogue, product, cart, checkout, order (the saga's timeline), history,
// account, sign-in and registration.
import { api, backoff, ApiProblem } from "./api.js";
import * as auth from "./auth.js";
import * as cart from "./cart.js";
import { h, money, when, field, showProblem, clearProblems, alertBox } from "./dom.js";

const PAGE = 12;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function availability(p) {
  if (p.discontinued) return h("span.bad", {}, "No longer sold");
  if (p.available === 0) return h("span.bad", {}, "Out of stock");
  return h("span.ok", { "data-available": p.available }, `${p.available} available`);
}

function addToCartForm(app, p) {
  const id = `qty-${p.id}`;
  const err = h("p.field-error", { role: "alert", id: `${id}-err` });
  const qty = h("input.qty", { id, type: "number", min: 1, max: cart.MAX_QUANTITY, value: 1, inputmode: "numeric", "aria-describedby": `${id}-err` });
  const form = h(
    "form.row",
    {
      "aria-label": `Add ${p.name} to the cart`,
      novalidate: true, // our message, in words, rather than the browser's bubble
      onsubmit: (e) => {
        e.preventDefault();
        const problem = cart.add(p, qty.valueAsNumber);
        err.textContent = problem || "";
        if (!problem) app.say(`Added ${qty.valueAsNumber} × ${p.name} to the cart.`);
      },
    },
    h("label.row", { for: id }, "Quantity", qty),
    h("button", { type: "submit", disabled: p.discontinued || p.available === 0 }, "Add to cart"),
    err,
  );
  return form;
}

export async function catalogue(app, cursor = null) {
  const q = `/products?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
  const page = await api("GET", q, { auth: false });
  const cards = page.items.map((p) =>
    h(
      "li.card",
      { "data-product": p.id },
      h("h2", {}, h("a", { href: `#/product/${p.id}` }, p.name)),
      h("p.price", {}, money(p.price)),
      h("p", {}, availability(p)),
      addToCartForm(app, p),
    ),
  );
  app.render(
    h("h1", {}, "Catalogue"),
    cards.length ? h("ul.grid", {}, cards) : h("p", {}, "Nothing for sale yet."),
    h(
      "nav.row",
      { "aria-label": "Pages" },
      cursor ? h("a.button.secondary", { href: "#/" }, "First page") : null,
      page.nextCursor ? h("a.button.secondary", { href: `#/catalogue/${encodeURIComponent(page.nextCursor)}` }, "Next page") : null,
    ),
  );
}

export async function product(app, id) {
  let p;
  try {
    p = await api("GET", `/products/${id}`, { auth: false });
  } catch (e) {
    if (e instanceof ApiProblem && (e.status === 404 || e.status === 400)) {
      return app.render(h("h1", {}, "Product not found"), h("p", {}, h("a", { href: "#/" }, "Back to the catalogue")));
    }
    throw e;
  }
  const d = p.dimensionsCm;
  app.render(
    h("p", {}, h("a", { href: "#/" }, "← Catalogue")),
    h("h1", {}, p.name),
    h("p.price", {}, money(p.price)),
    h("p", {}, availability(p)),
    h("p.muted", {}, `Weight ${(p.weightGrams / 1000).toFixed(2)} kg · ${d.length} × ${d.width} × ${d.height} cm`),
    addToCartForm(app, p),
  );
}

export function cartView(app) {
  const lines = cart.lines();
  if (!lines.length) {
    return app.render(h("h1", {}, "Cart"), h("p", {}, "Your cart is empty. ", h("a", { href: "#/" }, "Browse the catalogue")));
  }
  const rows = lines.map((l) => {
    const err = h("p.field-error", { role: "alert" });
    const id = `cart-q-${l.productId}`;
    const qty = h("input.qty", {
      id,
      type: "number",
      min: 1,
      max: cart.MAX_QUANTITY,
      value: l.quantity,
      onchange: () => {
        const p = cart.setQuantity(l.productId, qty.valueAsNumber);
        err.textContent = p || "";
        if (!p) cartView(app);
      },
    });
    return h(
      "tr",
      {},
      h("td", {}, h("a", { href: `#/product/${l.productId}` }, l.name)),
      h("td", {}, money(l.price)),
      h("td", {}, h("label.sr", { for: id }, `Quantity of ${l.name}`), qty, err),
      h("td", {}, money({ amount: l.price.amount * l.quantity, currency: l.price.currency })),
      h("td", {}, h("button.secondary", { type: "button", onclick: () => (cart.remove(l.productId), cartView(app)) }, `Remove ${l.name}`)),
    );
  });
  app.render(
    h("h1", {}, "Cart"),
    h(
      "div.table-wrap",
      {},
      h("table", {}, h("thead", {}, h("tr", {}, ["Product", "Price", "Quantity", "Line", "Remove"].map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rows)),
    ),
    h("p", {}, "Subtotal: ", h("strong", {}, money(cart.subtotal()))),
    h("p.muted", {}, `${lines.length} of at most ${cart.MAX_LINES} lines; 1 to ${cart.MAX_QUANTITY} of each product.`),
    h("a.button", { href: "#/checkout" }, "Checkout"),
  );
}

/** The signed-in customer, or null after sending the visitor to sign in or register. */
async function customerOrRedirect(app, back) {
  if (!auth.token()) {
    sessionStorage.setItem("shop.after", back);
    app.go("#/signin");
    return null;
  }
  const me = await app.me();
  if (!me) {
    sessionStorage.setItem("shop.after", back);
    app.go("#/register");
    return null;
  }
  return me;
}

function addressFields(a = {}) {
  return h(
    "fieldset",
    {},
    h("legend", {}, "Shipping address"),
    field("Street", "street", { value: a.street, autocomplete: "street-address", required: true, maxlength: 100 }),
    field("City", "city", { value: a.city, autocomplete: "address-level2", required: true, maxlength: 100 }),
    field("Region or state", "region", { value: a.region, autocomplete: "address-level1", required: true, maxlength: 100 }),
    field("Postal code", "postalCode", { value: a.postalCode, autocomplete: "postal-code", required: true, maxlength: 20 }),
    field("Country (two letters, e.g. US)", "country", { value: a.country, autocomplete: "country", required: true, maxlength: 2 }),
  );
}

function addressOf(form) {
  const v = (n) => form.elements.namedItem(n).value.trim();
  return { street: v("street"), city: v("city"), region: v("region"), postalCode: v("postalCode"), country: v("country").toUpperCase() };
}

export async function checkout(app) {
  const lines = cart.lines();
  if (!lines.length) return cartView(app);
  const me = await customerOrRedirect(app, "#/checkout");
  if (!me) return;
  // One Idempotency-Key per checkout: a double click or a retry sends the same one, so the API
  // answers with the order it already made instead of making a second.
  let key = sessionStorage.getItem("shop.checkout-key");
  if (!key) {
    key = crypto.randomUUID();
    sessionStorage.setItem("shop.checkout-key", key);
  }
  const g = app.current();
  const quote = h("p", { id: "quote", "aria-live": "polite" }, "Shipping: …");
  const alert = alertBox();
  const retry = h("button.secondary", { type: "button", hidden: true }, "Retry");
  const place = h("button", { type: "submit", id: "place-order" }, "Place order");
  const form = h(
    "form",
    { "aria-label": "Checkout", novalidate: true },
    addressFields(me.address),
    field("Shipping speed", "shippingSpeed", { options: [["standard", "Standard"], ["express", "Express"], ["overnight", "Overnight"]], value: "standard" }),
    h("p", {}, "Subtotal: ", h("strong", {}, money(cart.subtotal()))),
    quote,
    alert,
    h("div.row", {}, place, retry),
  );
  let quoting = 0;
  async function requote() {
    const mine = ++quoting;
    clearProblems(form);
    const l = cart.lines();
    try {
      const qv = await api("POST", "/shipping/quote", {
        auth: false,
        body: {
          destination: addressOf(form),
          items: l.map((x) => ({ weightGrams: x.weightGrams, dimensionsCm: x.dimensionsCm, quantity: x.quantity })),
          shippingSpeed: form.elements.shippingSpeed.value,
          subtotal: cart.subtotal(l),
        },
      });
      if (mine !== quoting) return;
      quote.textContent = `Shipping: ${money(qv.cost)} (${qv.zone}${qv.freeShippingApplied ? ", free above the threshold" : ""}) · Total ${money({ amount: cart.subtotal(l).amount + qv.cost.amount, currency: qv.cost.currency })}`;
      quote.dataset.cost = qv.cost.amount;
    } catch (e) {
      if (mine !== quoting) return;
      quote.textContent = "Shipping: no quote for these details.";
      delete quote.dataset.cost;
      showProblem(form, e);
    }
  }
  let timer;
  form.addEventListener("input", () => (clearTimeout(timer), (timer = setTimeout(requote, 300))));
  form.addEventListener("change", () => (clearTimeout(timer), requote()));
  let placing = false;
  async function submit(e) {
    e?.preventDefault();
    if (placing) return; // the second of a double click: the first is on its way
    placing = true;
    place.disabled = true;
    retry.hidden = true;
    clearProblems(form);
    app.say("Placing your order…");
    try {
      const order = await api("POST", "/orders", {
        headers: { "idempotency-key": key },
        body: {
          lines: cart.lines().map((x) => ({ productId: x.productId, quantity: x.quantity })),
          shippingAddress: addressOf(form),
          shippingSpeed: form.elements.shippingSpeed.value,
        },
      });
      sessionStorage.removeItem("shop.checkout-key");
      cart.clear();
      if (app.alive(g)) app.go(`#/order/${order.id}`);
    } catch (err) {
      app.say("");
      showProblem(form, err);
      // 422 unknown-reference: the order service has not heard of a product yet; the same key
      // makes a retry safe.
      retry.hidden = !(err.kind === "unknown-reference" || err.kind === "network" || err.kind === "service-unavailable");
      if (err.kind === "idempotency-key-reused") sessionStorage.removeItem("shop.checkout-key");
    } finally {
      placing = false;
      place.disabled = false;
    }
  }
  form.addEventListener("submit", submit);
  retry.addEventListener("click", submit);
  app.render(h("h1", {}, "Checkout"), h("p.muted", {}, `${lines.length} product(s) in your cart. `, h("a", { href: "#/cart" }, "Change the cart")), form);
  requote();
}

// ---- the order and its saga ----

const TERMINAL = new Set(["APPROVED", "REJECTED", "CANCELLED"]);
const STEP_WORDS = {
  OrderCreated: "Order placed: waiting for stock",
  OrderPriced: "Stock reserved and order priced: reserving credit",
  OrderApproved: "Credit reserved: order approved",
  OrderRejected: "Order rejected",
  OrderCancelled: "Order cancelled: stock and credit being released",
};
const REASONS = {
  OUT_OF_STOCK: "Not enough stock for one of the products.",
  UNKNOWN_PRODUCT: "One of the products is not sold here.",
  CREDIT_LIMIT_EXCEEDED: "The order's total is above your available credit.",
  UNKNOWN_CUSTOMER: "Your account was not known to the shop yet.",
  PRICING_FAILED: "The order could not be priced.",
  TIMED_OUT: "The order took too long to complete and was stopped.",
};

function timelineList(t) {
  return h(
    "ol.timeline",
    { "aria-label": "Saga timeline" },
    t.steps.map((s) =>
      h(
        `li.${s.event === "OrderRejected" || s.event === "OrderCancelled" ? "bad" : s.event === "OrderApproved" ? "good" : "step"}`,
        { "data-event": s.event },
        h("strong", {}, STEP_WORDS[s.event] || s.event),
        s.reason ? h("span", {}, ` — ${REASONS[s.reason] || s.reason}`) : null,
        h("br"),
        h("span.muted", {}, `${when(s.at)} · +${s.elapsedMs} ms · state ${s.state}`),
      ),
    ),
  );
}

export async function order(app, id) {
  const g = app.current();
  if (!auth.token()) {
    sessionStorage.setItem("shop.after", `#/order/${id}`);
    return app.go("#/signin");
  }
  let o;
  try {
    o = await api("GET", `/orders/${id}`);
  } catch (e) {
    if (e instanceof ApiProblem && (e.status === 404 || e.status === 400)) return app.render(h("h1", {}, "Order not found"));
    throw e;
  }
  const stateEl = h("span", { id: "order-state", class: `state state-${o.state}` }, o.state);
  const reason = h("p", { id: "rejection" });
  const steps = h("div", { id: "timeline" });
  const releases = h("ul", { id: "releases", "aria-live": "polite" });
  const alert = alertBox();
  const cancel = h("button.danger", { type: "button", id: "cancel-order", hidden: o.state !== "APPROVED" }, "Cancel this order");
  const names = new Map(cart.lines().map((l) => [l.productId, l.name]));
  const lineRows = o.lines.map((l) =>
    h("tr", {}, h("td", {}, h("a", { href: `#/product/${l.productId}`, "data-line": l.productId }, names.get(l.productId) || "Product")), h("td", {}, l.quantity), h("td", {}, money(l.unitPrice))),
  );
  app.render(
    h("h1", {}, "Order"),
    h("p", {}, "State: ", stateEl),
    reason,
    h("div.table-wrap", {}, h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Product"), h("th", { scope: "col" }, "Quantity"), h("th", { scope: "col" }, "Unit price"))), h("tbody", {}, lineRows))),
    h("p", { id: "totals" }),
    h("h2", {}, "What the services did"),
    steps,
    h("div", {}, releases),
    alert,
    cancel,
    h("p.muted", {}, `Order ${o.id} · placed ${when(o.createdAt)}`),
  );
  // Names for the lines (the order knows ids; the catalogue knows names).
  for (const l of o.lines) {
    if (names.has(l.productId)) continue;
    api("GET", `/products/${l.productId}`, { auth: false })
      .then((p) => document.querySelectorAll(`[data-line="${l.productId}"]`).forEach((a) => (a.textContent = p.name)))
      .catch(() => {});
  }
  function show(order, t) {
    stateEl.textContent = t.state;
    stateEl.className = `state state-${t.state}`;
    const rejected = t.steps.find((s) => s.reason);
    reason.textContent = rejected ? `Why: ${REASONS[rejected.reason] || rejected.reason}` : "";
    reason.className = rejected ? "bad" : "";
    steps.replaceChildren(timelineList(t));
    if (order) {
      document.getElementById("totals").textContent = order.total
        ? `Subtotal ${money(order.subtotal)} · shipping ${money(order.shippingCost)} · total ${money(order.total)}`
        : "Priced once the stock is reserved.";
    }
    cancel.hidden = t.state !== "APPROVED";
  }
  // Poll the timeline with backoff until the order is in a terminal state.
  async function watch() {
    for (let n = 0; app.alive(g); n++) {
      let t;
      try {
        t = await api("GET", `/orders/${id}/timeline`);
      } catch (e) {
        alert.textContent = e.message;
        await sleep(backoff(n + 2, 8000));
        continue;
      }
      alert.textContent = "";
      const terminal = TERMINAL.has(t.state);
      let current = null;
      if (terminal || n === 0) current = await api("GET", `/orders/${id}`).catch(() => null);
      if (!app.alive(g)) return;
      if (current) o = current; // priced now: the total the cancellation will give back
      show(current, t);
      if (terminal) return t;
      await sleep(Math.min(3000, 200 * 1.6 ** n));
    }
  }
  show(o, { state: o.state, steps: [] });
  watch();
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    // What to expect back: each line's units, and the total's credit.
    const before = await Promise.all(o.lines.map((l) => api("GET", `/products/${l.productId}`, { auth: false }).catch(() => null)));
    const meBefore = auth.isAdmin() ? null : await api("GET", "/me").catch(() => null);
    try {
      await api("POST", `/orders/${id}/cancel`);
    } catch (e) {
      alert.textContent = e.message;
      cancel.disabled = false;
      return;
    }
    app.customer = null;
    const t = await api("GET", `/orders/${id}/timeline`).catch(() => null);
    if (t) show(null, t);
    watchReleases(app, g, o, before, meBefore, releases);
  });
}

/** After a cancellation: polls the catalogue and the account until the stock and credit are back. */
async function watchReleases(app, g, o, before, meBefore, list) {
  const pending = new Map();
  o.lines.forEach((l, i) => {
    if (before[i]) pending.set(l.productId, { line: l, from: before[i].available, name: before[i].name });
  });
  let creditPending = !!(meBefore && o.total);
  list.replaceChildren(h("li", {}, "Waiting for the stock and credit to be released…"));
  const done = [];
  for (let n = 0; app.alive(g) && (pending.size || creditPending) && n < 30; n++) {
    await sleep(Math.min(3000, 200 * 1.5 ** n));
    for (const [pid, w] of [...pending]) {
      const p = await api("GET", `/products/${pid}`, { auth: false }).catch(() => null);
      if (p && p.available >= w.from + w.line.quantity) {
        done.push(h("li.ok", { "data-released": pid }, `Stock released: ${w.line.quantity} × ${w.name} back on sale (${p.available} available) at ${new Date().toLocaleTimeString()}`));
        pending.delete(pid);
      }
    }
    if (creditPending) {
      const me = await api("GET", "/me").catch(() => null);
      if (me && me.availableCredit.amount >= meBefore.availableCredit.amount + o.total.amount) {
        done.push(h("li.ok", { "data-released": "credit" }, `Credit released: ${money(o.total)} back; available credit ${money(me.availableCredit)} at ${new Date().toLocaleTimeString()}`));
        creditPending = false;
      }
    }
    const waiting = pending.size || creditPending ? [h("li", {}, "Waiting for the rest of the releases…")] : [];
    if (app.alive(g)) list.replaceChildren(...done, ...waiting);
  }
}

export async function history(app) {
  const me = await customerOrRedirect(app, "#/orders");
  if (!me) return;
  const g = app.current();
  const cursors = [null];
  const statusSel = field("Status", "status", { options: [["", "All"], ["PENDING", "Pending"], ["APPROVED", "Approved"], ["REJECTED", "Rejected"], ["CANCELLED", "Cancelled"]], value: "" });
  const body = h("div");
  async function load() {
    const s = statusSel.querySelector("select").value;
    const cursor = cursors[cursors.length - 1];
    const q = new URLSearchParams({ limit: "10" });
    if (s) q.set("status", s);
    if (cursor) q.set("cursor", cursor);
    const page = await api("GET", `/customers/${me.id}/orders?${q}`);
    if (!app.alive(g)) return;
    const rows = page.items.map((o) =>
      h("tr", {}, h("td", {}, h("a", { href: `#/order/${o.id}` }, when(o.createdAt))), h("td", {}, h("span", { class: `state state-${o.state}` }, o.state)), h("td", {}, money(o.total)), h("td", {}, o.lines.length)),
    );
    body.replaceChildren(
      rows.length
        ? h("div.table-wrap", {}, h("table", {}, h("thead", {}, h("tr", {}, ["Placed", "State", "Total", "Lines"].map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rows)))
        : h("p", {}, "No orders here."),
      h(
        "div.row",
        {},
        cursors.length > 1 ? h("button.secondary", { type: "button", onclick: () => (cursors.pop(), load()) }, "Previous page") : null,
        page.nextCursor ? h("button.secondary", { type: "button", onclick: () => (cursors.push(page.nextCursor), load()) }, "Next page") : null,
      ),
    );
  }
  statusSel.querySelector("select").addEventListener("change", () => (cursors.splice(1), load()));
  app.render(h("h1", {}, "Your orders"), statusSel, body);
  await load();
}

export async function account(app) {
  const me = await customerOrRedirect(app, "#/account");
  if (!me) return;
  app.customer = null;
  const fresh = (await app.me()) || me;
  const a = fresh.address;
  app.render(
    h("h1", {}, "Account"),
    h(
      "dl",
      {},
      h("dt", {}, "Name"), h("dd", {}, fresh.name),
      h("dt", {}, "Email"), h("dd", {}, fresh.email),
      h("dt", {}, "Credit limit"), h("dd", { id: "credit-limit" }, money(fresh.creditLimit)),
      h("dt", {}, "Credit available"), h("dd", { id: "credit-available" }, money(fresh.availableCredit)),
      h("dt", {}, "Address"), h("dd", {}, `${a.street}, ${a.city}, ${a.region} ${a.postalCode}, ${a.country}`),
    ),
  );
}

export async function signIn(app) {
  const alert = alertBox();
  const after = async () => {
    app.customer = null;
    // First sign-in of a customer: GET /me answers 404 until they register.
    if (!auth.isAdmin() && !(await app.me())) return app.go("#/register");
    const back = sessionStorage.getItem("shop.after") || "#/";
    sessionStorage.removeItem("shop.after");
    app.go(back);
  };
  if (auth.authKind() === "cognito") {
    return app.render(
      h("h1", {}, "Sign in"),
      h("p", {}, "You will sign in on the shop's sign-in page, then come back here."),
      h("button", { type: "button", onclick: () => auth.signInCognito().catch((e) => (alert.textContent = e.message)) }, "Sign in or create an account"),
      alert,
    );
  }
  const as = (sub, groups) => async () => {
    try {
      await auth.signInLocal(sub, groups);
      if (groups.length) sessionStorage.removeItem("shop.after");
      await after();
    } catch (e) {
      alert.textContent = e.message;
    }
  };
  const people = await auth.localIdentities();
  app.render(
    h("h1", {}, "Sign in"),
    h("p.note", {}, "This is the local runner's development identity provider: choose who to be. On AWS this page sends you to Cognito's sign-in instead."),
    h(
      "ul.signin-list",
      {},
      people.map((p) => h("li", {}, h("button", { type: "button", onclick: as(p.sub, []) }, `Sign in as ${p.name}`))),
      h("li", {}, h("button", { type: "button", id: "signin-new", onclick: as(crypto.randomUUID(), []) }, "Sign in as a new customer")),
      h("li", {}, h("button.secondary", { type: "button", id: "signin-admin", onclick: as(crypto.randomUUID(), ["admin"]) }, "Sign in as the operator (admin)")),
    ),
    alert,
  );
}

export async function register(app) {
  if (!auth.token()) return app.go("#/signin");
  if (await app.me()) return app.go(sessionStorage.getItem("shop.after") || "#/");
  const alert = alertBox();
  const form = h(
    "form",
    { "aria-label": "Registration", novalidate: true },
    field("Your name", "name", { autocomplete: "name", required: true, maxlength: 100 }),
    addressFields(),
    alert,
    h("button", { type: "submit" }, "Create my account"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearProblems(form);
    try {
      app.customer = await api("POST", "/customers", { body: { name: form.elements.namedItem("name").value.trim(), address: addressOf(form) } });
      const back = sessionStorage.getItem("shop.after") || "#/";
      sessionStorage.removeItem("shop.after");
      app.go(back);
    } catch (err) {
      showProblem(form, err);
    }
  });
  app.render(h("h1", {}, "Welcome: create your account"), h("p", {}, "This is your first sign-in. Tell us your name and where to ship."), form);
}
