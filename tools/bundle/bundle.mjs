// Bundles one js function with what it imports into one ES module for the
// PeerHost js runtime (QuickJS in WebAssembly: no files, network or processes).
//
// Usage: node tools/bundle/bundle.mjs ENTRY ROOT [BANNER]
// Prints JSON: {"ok": true, "code": "..."} or {"ok": false, "errors": [{text, file, line, column}]}.
// Source paths in the inline source map are relative to ROOT (the project folder),
// so stack traces name the original files and lines.
import { builtinModules } from "node:module";
import path from "node:path";
import * as esbuild from "esbuild";

const [entry, root, banner] = process.argv.slice(2);
if (!entry || !root) {
  console.error("usage: node bundle.mjs ENTRY ROOT");
  process.exit(2);
}
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

const refuseBuiltins = {
  name: "peerhost-refuse-node-builtins",
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === "entry-point") return undefined;
      const name = args.path;
      if (!builtins.has(name) && !name.startsWith("node:")) return undefined;
      return {
        errors: [
          {
            text:
              `imports the Node built-in '${name}', which cannot run in the PeerHost sandbox ` +
              "(no files, network, processes or native modules); remove the import or use a package that does not need it",
          },
        ],
      };
    });
  },
};

function report(messages) {
  return messages.map((m) => ({
    text: m.text,
    file: m.location ? m.location.file : null,
    line: m.location ? m.location.line : null,
    column: m.location ? m.location.column : null,
  }));
}

try {
  const result = await esbuild.build({
    entryPoints: [path.resolve(entry)],
    absWorkingDir: path.resolve(root),
    outfile: path.join(path.resolve(root), "function.js"),
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["worker", "import", "default"],
    target: "es2023",
    charset: "utf8",
    sourcemap: "inline",
    sourcesContent: false,
    legalComments: "none",
    banner: banner ? { js: banner } : undefined,
    logLevel: "silent",
    plugins: [refuseBuiltins],
  });
  process.stdout.write(JSON.stringify({ ok: true, code: result.outputFiles[0].text }));
} catch (error) {
  const errors = error && Array.isArray(error.errors) ? report(error.errors) : [{ text: String(error), file: null, line: null, column: null }];
  process.stdout.write(JSON.stringify({ ok: false, errors }));
}
