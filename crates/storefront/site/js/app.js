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
  customer: null, // GET /me, once known
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
  [/^#?\/?$/, () => shop.catalogue(app)],
  [/^#\/catalogue(?:\/(.+))?$/, (m) => shop.catalogue(app, m[1] ? decodeURIComponent(m[1]) : null)],
  [/^#\/product\/([\w-]+)$/, (m) => shop.product(app, m[1])],
  [/^#\/cart$/, () => shop.cartView(app)],
  [/^#\/checkout$/, () => shop.checkout(app)],
  [/^#\/order\/([\w-]+)$/, (m) => shop.order(app, m[1])],
  [/^#\/orders$/, () => shop.history(app)],
  [/^#\/account$/, () => shop.account(app)],
  [/^#\/signin$/, () => shop.signIn(app)],
  [/^#\/register$/, () => shop.register(app)],
  [/^#\/console$/, () => console_.products(app)],
  [/^#\/console\/product\/([\w-]+)$/, (m) => console_.editProduct(app, m[1])],
  [/^#\/console\/new$/, () => console_.newProduct(app)],
  [/^#\/console\/customers(?:\/([\w-]+))?$/, (m) => console_.customers(app, m[1])],
  [/^#\/console\/operations$/, () => console_.operations(app)],
];

async function route() {
  generation++;
  app.say("");
  showNav();
  const hash = location.hash || "#/";
  const found = routes.find(([re]) => re.test(hash));
  try {
    if (!found) app.render(h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Back to the catalogue")));
    else await found[1](hash.match(found[0]));
  } catch (e) {
    app.render(h("h1", {}, "Something went wrong"), h("p.alert", { role: "alert" }, e.message || "Please try again."));
  }
  showNav();
  view.focus({ preventScroll: true });
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
