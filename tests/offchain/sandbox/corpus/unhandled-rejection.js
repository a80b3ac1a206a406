export async function handler() {
  await Promise.resolve();
  return Promise.reject(new RangeError("deliberate"));
}
