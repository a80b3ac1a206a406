// Looks for ambient authority: only process.env (the secrets, none here) exists.
export async function handler() {
  const seen = {
    env: JSON.stringify(process.env),
    require: typeof require,
    std: typeof std,
    os: typeof os,
    fetch: typeof fetch,
    setTimeout: typeof setTimeout,
    WebAssembly: typeof WebAssembly,
  };
  return { status: 200, body: seen };
}
