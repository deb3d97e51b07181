// Sign-in. Two kinds, chosen by /config.json's `auth.kind`:
//  - "local": the runner's development identity provider mints a token for a chosen subject
//    (a seeded customer, a new one, or an admin);
//  - "cognito": Cognito's hosted UI, authorization code flow with PKCE (S256) and a `state`.
// Tokens live in sessionStorage (this tab only, gone when it closes), never in a URL or a log.

const TOKEN = "shop.token";
const PKCE = "shop.pkce";

let config = { kind: "local" };

export function configureAuth(auth) {
  config = auth || { kind: "local" };
}

export const authKind = () => config.kind;

export function token() {
  const t = sessionStorage.getItem(TOKEN);
  if (!t) return null;
  const c = claims(t);
  if (c && typeof c.exp === "number" && c.exp * 1000 < Date.now()) {
    sessionStorage.removeItem(TOKEN);
    return null;
  }
  return t;
}

/** The token's claims (its payload, not verified: the API verifies; the page only reads them). */
export function claims(t = sessionStorage.getItem(TOKEN)) {
  if (!t) return null;
  try {
    const part = t.split(".")[1];
    return JSON.parse(new TextDecoder().decode(base64UrlDecode(part)));
  } catch {
    return null;
  }
}

export function isAdmin() {
  const c = claims(token());
  const groups = c && c["cognito:groups"];
  return Array.isArray(groups) ? groups.includes("admin") : typeof groups === "string" && groups.split(/[ ,]/).includes("admin");
}

// ---- local ----

export async function localIdentities() {
  const r = await fetch("/_local/identities");
  if (!r.ok) return [];
  return (await r.json()).customers || [];
}

export async function signInLocal(sub, groups = []) {
  const r = await fetch("/_local/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sub, groups }),
  });
  if (!r.ok) throw new Error("The development identity provider refused to sign you in.");
  const { accessToken } = await r.json();
  sessionStorage.setItem(TOKEN, accessToken);
}

// ---- Cognito hosted UI, code flow with PKCE ----

export function base64UrlEncode(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function base64UrlDecode(text) {
  const s = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(s + "=".repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** A code verifier (RFC 7636 §4.1): 32 random bytes, base64url, 43 characters. */
export function newVerifier() {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)));
}

/** The S256 challenge of a verifier: base64url(SHA-256(ascii(verifier))). */
export async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64UrlEncode(digest);
}

/** Goes to the hosted UI; the verifier and state wait in sessionStorage for the way back. */
export async function signInCognito() {
  const verifier = newVerifier();
  const state = base64UrlEncode(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem(PKCE, JSON.stringify({ verifier, state }));
  const q = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: (config.scopes || ["openid", "email"]).join(" "),
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: "S256",
  });
  location.assign(`${config.domain}/oauth2/authorize?${q}`);
}

/**
 * On the way back from the hosted UI: takes `code` and `state` off the URL at once
 * (history.replaceState), checks the state, exchanges the code with the verifier. Answers
 * whether a sign-in completed.
 */
export async function completeCognitoSignIn() {
  if (config.kind !== "cognito") return false;
  const url = new URL(location.href);
  const code = url.searchParams.get("code");
  const state = url.searchParams.get("state");
  const error = url.searchParams.get("error");
  if (!code && !error) return false;
  for (const p of ["code", "state", "error", "error_description"]) url.searchParams.delete(p);
  history.replaceState(null, "", url.pathname + url.search + url.hash);
  const saved = JSON.parse(sessionStorage.getItem(PKCE) || "null");
  sessionStorage.removeItem(PKCE);
  if (error) throw new Error("Sign-in was cancelled or refused.");
  if (!saved || saved.state !== state) throw new Error("Sign-in could not be verified (state mismatch). Please sign in again.");
  const r = await fetch(`${config.domain}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.clientId,
      code,
      redirect_uri: config.redirectUri,
      code_verifier: saved.verifier,
    }),
  });
  if (!r.ok) throw new Error("Sign-in could not be completed. Please sign in again.");
  const tokens = await r.json();
  sessionStorage.setItem(TOKEN, tokens.access_token);
  return true;
}

export function signOut() {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(PKCE);
  if (config.kind === "cognito") {
    const q = new URLSearchParams({ client_id: config.clientId, logout_uri: config.logoutUri });
    location.assign(`${config.domain}/logout?${q}`);
    return true;
  }
  return false;
}
