// Returns a promise nothing will ever resolve.
export async function handler() {
  return new Promise(() => {});
}
