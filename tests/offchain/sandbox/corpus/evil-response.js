// Header injection attempt in the response.
export async function handler() {
  return { status: 200, headers: { "set-cookie": "a=b\r\nx-evil: 1" }, body: "hi" };
}
