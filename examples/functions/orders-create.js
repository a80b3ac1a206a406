// orders-create: validates an order (JSON body), computes totals, answers
// 201 with the priced order or 400 with what is wrong. Runtime "js".
//
// Body: {"customer": "alice", "items": [{"sku": "A-1", "qty": 2, "price_cents": 1250}]}

const TAX_BASIS_POINTS = 825; // 8.25 %

function problems(order) {
  const errors = [];
  if (typeof order !== "object" || order === null || Array.isArray(order)) {
    return ["body must be a JSON object"];
  }
  if (typeof order.customer !== "string" || order.customer.length === 0) {
    errors.push("customer must be a non-empty string");
  }
  if (!Array.isArray(order.items) || order.items.length === 0) {
    errors.push("items must be a non-empty array");
    return errors;
  }
  order.items.forEach((item, i) => {
    if (typeof item?.sku !== "string" || item.sku.length === 0) errors.push(`items[${i}].sku must be a string`);
    if (!Number.isInteger(item?.qty) || item.qty < 1) errors.push(`items[${i}].qty must be a positive integer`);
    if (!Number.isInteger(item?.price_cents) || item.price_cents < 0) {
      errors.push(`items[${i}].price_cents must be a non-negative integer`);
    }
  });
  return errors;
}

export async function handler(req) {
  if (req.method !== "POST") {
    return { status: 405, headers: { allow: "POST" }, body: { error: "use POST" } };
  }
  // req.body is already parsed (the request says JSON); a body that is not valid
  // JSON never gets here: the runtime answers 400 invalid_json for it.
  const order = req.body;
  const errors = problems(order);
  if (errors.length > 0) return { status: 400, body: { errors } };

  const lines = order.items.map((item) => ({ ...item, line_cents: item.qty * item.price_cents }));
  const subtotal = lines.reduce((sum, line) => sum + line.line_cents, 0);
  const tax = Math.round((subtotal * TAX_BASIS_POINTS) / 10000);
  console.log(`order for ${order.customer}: ${lines.length} lines, ${subtotal + tax} cents`);
  return {
    status: 201,
    body: {
      order_id: req.metadata.request_id,
      customer: order.customer,
      lines,
      subtotal_cents: subtotal,
      tax_cents: tax,
      total_cents: subtotal + tax,
      created_at: new Date(req.metadata.block_timestamp * 1000).toISOString(),
    },
  };
}
