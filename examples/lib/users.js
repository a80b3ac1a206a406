// Shared project code: imported by functions as "../lib/users.js" and bundled
// into each function that uses it when the project is published.

export function normalizeEmail(email) {
  if (typeof email !== "string" || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.trim())) {
    throw new TypeError("email must look like name@example.com");
  }
  return email.trim().toLowerCase();
}

// A stable user id from the email: the first 12 hex digits of its SHA-256.
export async function userIdFor(email) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(email));
  return "u_" + Array.from(new Uint8Array(digest).slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
}
