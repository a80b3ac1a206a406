// Looks for ambient authority: none of these exist in the sandbox.
export async function handler() {
  const seen = {
    process: typeof process,
    require: typeof require,
    std: typeof std,
    os: typeof os,
    fetch: typeof fetch,
    setTimeout: typeof setTimeout,
    WebAssembly: typeof WebAssembly,
  };
  return { status: 200, body: seen };
}
