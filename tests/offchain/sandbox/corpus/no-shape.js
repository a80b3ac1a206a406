// Exports nothing the runtime can call.
export default { handle() { return 1; } };
