// The API client: the base URL from /config.json, the bearer token, retries with backoff for
// network failures and 503s, and every problem+json answer turned into an ApiProblem whose
// message is plain words (never the raw body).

let base = "";
let tokenSource = () => null;

export function configureApi(apiUrl, getToken) {
  base = (apiUrl || "").replace(/\/+$/, "");
  tokenSource = getToken;
}

// Plain words for each problem type (crates/handlers/src/problem.rs names them).
const WORDS = {
  "malformed-json": "The request could not be read. Please try again.",
  "invalid-body": "Some of the details are missing or not in the right form.",
  "invalid-field": "This value is not accepted.",
  "invalid-path-parameter": "That link is not valid.",
  "invalid-query-parameter": "That filter is not valid.",
  "invalid-cursor": "That page is no longer valid; start again from the first page.",
  "invalid-idempotency-key": "The checkout could not be identified; reload the page and try again.",
  "unauthenticated": "Please sign in (again): your session is missing or has expired.",
  "forbidden": "You are not allowed to do this.",
  "not-found": "It could not be found.",
  "route-not-found": "It could not be found.",
  "method-not-allowed": "That action is not possible here.",
  "conflict": "Someone else changed this at the same time. Reload to see the latest, then try again.",
  "precondition-failed": "Someone else changed this after you opened it. Reload to see the latest, then try again.",
  "invalid-if-match": "The page's copy could not be identified; reload the page and try again.",
  "invalid-state": "That is not possible in the order's current state.",
  "discontinued": "A product in your cart is no longer sold. Remove it and try again.",
  "already-registered": "You are already registered.",
  "payload-too-large": "That is too much at once.",
  "unsupported-media-type": "The request was not understood.",
  "currency-mismatch": "All prices must be in the same currency.",
  "amount-out-of-range": "That amount is too large.",
  "shipping-unavailable": "This shipping speed is not offered to that address. Choose another speed.",
  "unknown-reference": "The shop does not know one of these products (or your account) yet. It may have just been added: retry in a moment.",
  "idempotency-key-reused": "This checkout was already used for a different cart. Reload the page to start a new checkout.",
  "internal": "Something went wrong on our side. It has been logged; please try again.",
  "service-unavailable": "The service is busy or unavailable right now. Please try again shortly.",
};

export class ApiProblem extends Error {
  constructor(status, kind, field, detail) {
    super(WORDS[kind] || `The request failed (${status}).`);
    this.status = status;
    this.kind = kind; // the last segment of the problem's `type`
    this.field = field || null;
    this.detail = detail || "";
  }
}

export class NetworkProblem extends Error {
  constructor() {
    super("The shop cannot be reached. Check your connection; we tried a few times.");
    this.kind = "network";
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// How long to wait before attempt n (0-based): 250 ms doubling, capped, with jitter.
export function backoff(n, cap = 4000) {
  const ms = Math.min(cap, 250 * 2 ** n);
  return ms / 2 + Math.random() * (ms / 2);
}

/** Calls the API. `body` is sent as JSON; extra headers in `headers`. Answers the parsed JSON. */
export async function api(method, path, options = {}) {
  return (await apiTagged(method, path, options)).value;
}

/**
 * As `api`, answering `{ value, etag }`: the parsed JSON and the answer's ETag (a product's
 * revision, which a later write sends back in If-Match), or null when it has none.
 */
export async function apiTagged(method, path, { body, headers = {}, attempts = 4, auth = true } = {}) {
  const h = { accept: "application/json, application/problem+json", ...headers };
  if (body !== undefined) h["content-type"] = "application/json";
  const token = auth ? tokenSource() : null;
  if (token) h.authorization = `Bearer ${token}`;
  for (let n = 0; ; n++) {
    let res;
    try {
      res = await fetch(base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      // A network failure: retrying is safe, POSTs that create carry an Idempotency-Key.
      if (n + 1 >= attempts) throw new NetworkProblem();
      await sleep(backoff(n));
      continue;
    }
    if (res.status === 503 && n + 1 < attempts) {
      await sleep(backoff(n + 2));
      continue;
    }
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (res.ok) return { value: data, etag: res.headers.get("etag") };
    const kind = data && typeof data.type === "string" ? data.type.split("/").pop() : `http-${res.status}`;
    throw new ApiProblem(res.status, kind, data && data.field, data && data.detail);
  }
}

/** Every page of a paged list (`items`, `nextCursor`), up to `maxPages`. */
export async function allPages(path, maxPages = 20) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api("GET", cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    items.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) return { items, complete: true };
  }
  return { items, complete: false };
}
