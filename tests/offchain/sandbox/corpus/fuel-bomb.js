export async function handler() {
  let n = 0;
  for (;;) n++;
}
