// Catastrophic regex backtracking: bounded by fuel, not by wall time.
export async function handler() {
  return { status: 200, body: /^(a+)+$/.test("a".repeat(40) + "!") };
}
