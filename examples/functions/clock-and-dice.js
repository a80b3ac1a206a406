// clock-and-dice: reads the clock and rolls dice. Runtime "js".
//
// Every worker answers the same: the clock reads the request's block
// timestamp and Math.random is seeded from the request id, so honest
// workers agree byte for byte (and a new request rolls new dice).

export async function handler(req) {
  const sides = Number.parseInt(req.query.sides ?? "6", 10) || 6;
  const dice = Array.from({ length: 3 }, () => 1 + Math.floor(Math.random() * sides));
  return {
    status: 200,
    body: {
      now_ms: Date.now(),
      now_iso: new Date().toISOString(),
      random: Math.random(),
      dice,
    },
  };
}
