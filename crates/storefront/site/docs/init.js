// Swagger UI over the API's own document (served by the runner at /openapi.json). Its
// initializer lives here, not inline, so the page's Content-Security-Policy allows no inline script.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  // No deep links: they put a link inside each operation's toggle button (a control nested in a
  // control, which screen readers cannot reach).
  deepLinking: false,
  // No calls home: no validator badge (it fetches from validator.swagger.io).
  validatorUrl: null,
  onComplete: label,
});

// Swagger UI renders its selects without labels; name them for assistive technology, now and
// whenever it renders more (an operation opened, a server chosen).
function label() {
  document.querySelectorAll("#swagger-ui select:not([aria-label])").forEach((s) => {
    s.setAttribute("aria-label", s.id === "servers" ? "Server" : s.closest("[data-param-name]")?.dataset.paramName || "Choice");
  });
}
new MutationObserver(label).observe(document.getElementById("swagger-ui"), { childList: true, subtree: true });
