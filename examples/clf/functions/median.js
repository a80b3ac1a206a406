// A Chainlink Functions source as it was written for Chainlink: the median of the prices in
// `args` (decimal strings), scaled to `bytesArgs[0]` decimals (one byte, default 18), as a uint256.
// Pure computation: it runs unchanged on PeerHost's clf runtime (docs/migrating-from-chainlink-functions.md).
if (args.length === 0) {
  throw Error("pass at least one price in args");
}
const decimals = bytesArgs.length > 0 ? parseInt(bytesArgs[0].slice(2), 16) : 18;

function scaled(text) {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw Error(`not a price: ${text}`);
  const fraction = (match[2] || "").padEnd(decimals, "0").slice(0, decimals);
  return BigInt(match[1]) * 10n ** BigInt(decimals) + BigInt(fraction || "0");
}

const prices = args.map(scaled).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const middle = Math.floor(prices.length / 2);
const median = prices.length % 2 === 1 ? prices[middle] : (prices[middle - 1] + prices[middle]) / 2n;
console.log(`median of ${prices.length} prices: ${median}`);
return Functions.encodeUint256(median);
