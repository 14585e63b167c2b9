// OpenAI's own npm client against `simile serve`: embeddings in its default
// encoding (base64, decoded by the client), as floats and with dimensions
// must equal `simile embed`'s vectors; its errors must come through as the
// client's typed errors.
//
//   node openai_client.mjs --node-dir DIR --base-url URL --api-key KEY --expected FILE
//
// FILE: {"texts": [...], "full": [[...], ...], "dims64": [[...], ...]} from
// `simile embed` (see tests/cli/server_openai_client_test.sh).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const require = createRequire(path.join(args["node-dir"], "package.json"));
const { default: OpenAI } = await import(require.resolve("openai"));

const expected = JSON.parse(readFileSync(args.expected, "utf8"));
const client = new OpenAI({ baseURL: args["base-url"] + "/v1", apiKey: args["api-key"], maxRetries: 0 });

let failures = 0;
const fail = (msg) => {
  console.error("FAIL: " + msg);
  failures++;
};
const maxDiff = (a, b) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

function check(name, response, want) {
  if (response.data.length !== want.length) return fail(`${name}: ${response.data.length} embeddings, want ${want.length}`);
  response.data.forEach((d, i) => {
    if (d.index !== i) fail(`${name}: index ${d.index} at ${i}`);
    if (d.embedding.length !== want[i].length) return fail(`${name}: ${d.embedding.length} dims, want ${want[i].length}`);
    const diff = maxDiff(d.embedding, want[i]);
    if (!(diff < 1e-6)) fail(`${name}: text ${i} differs from simile embed by ${diff}`);
  });
  if (!(response.usage.prompt_tokens > 0) || response.usage.total_tokens !== response.usage.prompt_tokens)
    fail(`${name}: usage ${JSON.stringify(response.usage)}`);
}

const model = "all-MiniLM-L6-v2";
check("default (base64)", await client.embeddings.create({ model, input: expected.texts }), expected.full);
check("float", await client.embeddings.create({ model, input: expected.texts, encoding_format: "float" }), expected.full);
check("dimensions 64", await client.embeddings.create({ model, input: expected.texts, dimensions: 64 }), expected.dims64);
check("one string", await client.embeddings.create({ model, input: expected.texts[0] }), [expected.full[0]]);

const models = await client.models.list();
if (!models.data.some((m) => m.id === model)) fail("models.list lacks " + model);

// Errors arrive as the client's typed errors, with the server's message.
async function expectError(name, status, promise) {
  try {
    await promise;
    fail(`${name}: no error`);
  } catch (e) {
    if (!(e instanceof OpenAI.APIError)) return fail(`${name}: ${e}`);
    if (e.status !== status) fail(`${name}: status ${e.status}, want ${status}`);
    if (!e.message || !e.error || !e.error.message) fail(`${name}: no message in ${JSON.stringify(e.error)}`);
  }
}
await expectError("unknown model", 404, client.embeddings.create({ model: "text-embedding-3-small", input: "x" }));
await expectError("dimensions too large", 400, client.embeddings.create({ model, input: "x", dimensions: 4096 }));
await expectError(
  "wrong key",
  401,
  new OpenAI({ baseURL: args["base-url"] + "/v1", apiKey: "wrong", maxRetries: 0 }).embeddings.create({ model, input: "x" }),
);

if (failures) {
  console.error(`${failures} failure(s)`);
  process.exit(1);
}
console.log("ok");
