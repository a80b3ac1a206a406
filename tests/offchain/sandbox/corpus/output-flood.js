export async function handler() {
  return { status: 200, body: "x".repeat(4 * 1024 * 1024) };
}
