export async function handler() {
  const hoard = [];
  for (;;) hoard.push(new Array(10000).fill(hoard.length));
}
