// Replaces JSON.stringify, which the runtime uses to write the response: the
// output is still checked by the host, so the forgery is only invalid output.
export function handler() {
  JSON.stringify = () => "{not json";
  return { status: 200 };
}
