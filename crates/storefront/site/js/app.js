// The single page: reads /config.json, completes a Cognito sign-in if one is coming back, then
// routes on the URL's #fragment (no server routes to keep in step with the API's).
import { api, configureApi, ApiProblem } from "./api.js";
import * as auth from "./auth.js";
import * as cart from "./cart.js";
import { h } from "./dom.js";
import * as shop from "./shop.js";
import * as console_ from "./console.js";

const view = document.getElementById("view");
const status = document.getElementById("status");
let generation = 0; // bumps on every navigation: pollers of an older view stop
let customer = null;

export const app = {
  /** Replaces the view's content; answers whether this view is still the current one. */
  render(...nodes) {
    view.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
    const title = view.querySelector("h1");
    document.title = title ? `${title.textContent} · shop-saga` : "shop-saga";
  },
  current: () => generation,
  alive: (g) => g === generation,
  go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  say(text) {
    status.textContent = text || "";
  },
  // GET /me, once known. An accessor, so that a view's context (below) shares it.
  get customer() {
    return customer;
  },
  set customer(c) {
    customer = c;
  },
  async me() {
    if (app.customer) return app.customer;
    try {
      app.customer = await api("GET", "/me");
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 404) return null;
      throw e;
    }
    return app.customer;
  },
};

function showNav() {
  const signedIn = !!auth.token();
  const admin = signedIn && auth.isAdmin();
  const show = { "signed-in": signedIn, "signed-out": !signedIn, customer: signedIn && !admin, admin };
  document.querySelectorAll("[data-when]").forEach((el) => (el.hidden = !show[el.dataset.when]));
  const n = cart.lines().length;
  document.getElementById("nav-cart").textContent = n ? `Cart (${n})` : "Cart";
  const who = document.getElementById("who");
  who.textContent = admin ? "Signed in as operator" : app.customer ? `Signed in as ${app.customer.name}` : signedIn ? "Signed in" : "";
}

const routes = [
  [/^#?\/?$/, (m, c) => shop.catalogue(c)],
  [/^#\/catalogue(?:\/(.+))?$/, (m, c) => shop.catalogue(c, m[1] ? decodeURIComponent(m[1]) : null)],
  [/^#\/product\/([\w-]+)$/, (m, c) => shop.product(c, m[1])],
  [/^#\/cart$/, (m, c) => shop.cartView(c)],
  [/^#\/checkout$/, (m, c) => shop.checkout(c)],
  [/^#\/order\/([\w-]+)$/, (m, c) => shop.order(c, m[1])],
  [/^#\/orders$/, (m, c) => shop.history(c)],
  [/^#\/account$/, (m, c) => shop.account(c)],
  [/^#\/signin$/, (m, c) => shop.signIn(c)],
  [/^#\/register$/, (m, c) => shop.register(c)],
  [/^#\/console$/, (m, c) => console_.products(c)],
  [/^#\/console\/product\/([\w-]+)$/, (m, c) => console_.editProduct(c, m[1])],
  [/^#\/console\/new$/, (m, c) => console_.newProduct(c)],
  [/^#\/console\/customers(?:\/([\w-]+))?$/, (m, c) => console_.customers(c, m[1])],
  [/^#\/console\/operations$/, (m, c) => console_.operations(c)],
];

async function route() {
  generation++;
  delete document.documentElement.dataset.route;
  app.say("");
  showNav();
  const hash = location.hash || "#/";
  const found = routes.find(([re]) => re.test(hash));
  // The view renders through a context whose render is a no-op once the user has navigated on:
  // a slow answer for the page they left never paints over the one they are on.
  const mine = generation;
  const ctx = Object.create(app, { render: { value: (...nodes) => app.alive(mine) && app.render(...nodes) } });
  try {
    if (!found) ctx.render(h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Back to the catalogue")));
    else await found[1](hash.match(found[0]), ctx);
  } catch (e) {
    ctx.render(h("h1", {}, "Something went wrong"), h("p.alert", { role: "alert" }, e.message || "Please try again."));
  }
  if (!app.alive(mine)) return;
  showNav();
  view.focus({ preventScroll: true });
  document.documentElement.dataset.route = hash; // this view has rendered (the tests wait for it)
}

async function start() {
  let config = { apiUrl: "", auth: { kind: "local" } };
  try {
    const r = await fetch("/config.json", { cache: "no-cache" });
    if (r.ok) config = await r.json();
  } catch {
    app.say("The shop's configuration could not be loaded; using this server.");
  }
  auth.configureAuth(config.auth);
  configureApi(config.apiUrl, auth.token);
  try {
    if (await auth.completeCognitoSignIn()) location.hash = "#/";
  } catch (e) {
    app.say(e.message);
  }
  document.getElementById("sign-out").addEventListener("click", () => {
    app.customer = null;
    if (!auth.signOut()) app.go("#/");
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("cart-changed", showNav);
  await route();
  document.documentElement.dataset.ready = "true";
}

start();
