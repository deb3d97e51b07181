// The cart: lines of (product, quantity) with what the page needs to show and quote them, kept in
// sessionStorage. 1 to 999 of a product, at most 50 lines (the API's own limits).

const KEY = "shop.cart";
export const MAX_LINES = 50;
export const MAX_QUANTITY = 999;

export function lines() {
  try {
    const l = JSON.parse(sessionStorage.getItem(KEY) || "[]");
    return Array.isArray(l) ? l : [];
  } catch {
    return [];
  }
}

function save(l) {
  sessionStorage.setItem(KEY, JSON.stringify(l));
  window.dispatchEvent(new Event("cart-changed"));
}

/** Adds `quantity` of `product`; answers an error in plain words, or null. */
export function add(product, quantity) {
  const q = Number(quantity);
  if (!Number.isInteger(q) || q < 1 || q > MAX_QUANTITY) return `Choose a quantity from 1 to ${MAX_QUANTITY}.`;
  const l = lines();
  const line = l.find((x) => x.productId === product.id);
  if (line) {
    if (line.quantity + q > MAX_QUANTITY) return `At most ${MAX_QUANTITY} of one product per order.`;
    line.quantity += q;
  } else {
    if (l.length >= MAX_LINES) return `At most ${MAX_LINES} different products per order.`;
    l.push({ productId: product.id, name: product.name, price: product.price, weightGrams: product.weightGrams, dimensionsCm: product.dimensionsCm, quantity: q });
  }
  save(l);
  return null;
}

export function setQuantity(productId, quantity) {
  const q = Number(quantity);
  if (!Number.isInteger(q) || q < 1 || q > MAX_QUANTITY) return `Choose a quantity from 1 to ${MAX_QUANTITY}.`;
  const l = lines();
  const line = l.find((x) => x.productId === productId);
  if (line) line.quantity = q;
  save(l);
  return null;
}

export function remove(productId) {
  save(lines().filter((x) => x.productId !== productId));
}

export function clear() {
  save([]);
}

export function subtotal(l = lines()) {
  if (!l.length) return null;
  return { amount: l.reduce((s, x) => s + x.price.amount * x.quantity, 0), currency: l[0].price.currency };
}
