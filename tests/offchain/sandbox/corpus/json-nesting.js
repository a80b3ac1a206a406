// A deeply nested JSON document: the native wasm stack runs out (stack_overflow).
export async function handler() {
  return { status: 200, body: JSON.parse("[".repeat(100000) + "]".repeat(100000)) };
}
