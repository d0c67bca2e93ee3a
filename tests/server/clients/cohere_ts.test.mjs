// The Cohere TypeScript SDK (cohere-ai, pinned in package.json / package-lock.json) against
// `rerank serve`: CohereClient (v1) and CohereClientV2 pointed at the server, the API key sent as a
// Bearer token. Scores are compared with the library's for the same inputs (the CLI, same model and
// threads; tolerance as in expect.py). The SDK parses responses without validation, so each
// response body is also checked with the SDK's own schema, validation on. Run by
// scripts/client_tests.sh, which sets the environment below.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through scripts/client_tests.sh`);
  return value;
}

const require = createRequire(import.meta.url);
const sdkDir = env("COHERE_AI_DIR");
const { CohereClient, CohereClientV2, Cohere } = require(sdkDir);
const schemas = require(join(sdkDir, "serialization")); // not in the package's exports map
const server = { url: env("RERANK_SERVER_URL"), key: env("RERANK_API_KEY"), maxDocuments: Number(env("RERANK_MAX_DOCUMENTS")) };

const REL_TOL = 1e-6;
const QUERY = "why does the planet mars look red";
const DOCS = [
  "Mars looks red because iron minerals in its dust and rocks have oxidised, much like rust.",
  "The Great Red Spot is a storm on Jupiter larger than the Earth.",
  "Sunsets on Mars are blue: fine dust scatters blue light forward.",
  "Rote Planeten: Der Mars erscheint rötlich wegen Eisenoxid — 火星は赤い.",
  "A recipe for tomato soup needs ripe tomatoes, onions and basil.",
];
// The SDK types v1 document objects as string -> string records.
const OBJECTS = [
  { title: "Rust-coloured dust", text: DOCS[0], year: "2021" },
  { title: "Jupiter's storm", text: DOCS[1], year: "2019" },
  { title: "Martian sunsets", text: DOCS[2], year: "2015" },
];

function libraryLogits(query, texts) {
  const dir = mkdtempSync(join(tmpdir(), "rerank-ts-"));
  try {
    const candidates = join(dir, "candidates.jsonl");
    const run = join(dir, "run.trec");
    const line = { query_id: "q", query, candidates: texts.map((text, i) => ({ id: `d${i}`, text })) };
    writeFileSync(candidates, JSON.stringify(line) + "\n");
    execFileSync(env("RERANK_BIN"), ["rerank", "--model", env("RERANK_TEST_MODEL"), "--candidates", candidates,
      "--strategy", "pointwise", "--depth", String(texts.length), "--threads", env("RERANK_THREADS"),
      "--output", run], { stdio: ["ignore", "ignore", "pipe"] });
    const scores = new Map();
    for (const row of readFileSync(run, "utf8").trim().split("\n")) {
      const [, , doc, , score] = row.split(/\s+/);
      scores.set(Number(doc.slice(1)), Number(score));
    }
    assert.equal(scores.size, texts.length);
    return texts.map((_, i) => scores.get(i));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sigmoid = (x) => 1 / (1 + Math.exp(-x));

// The library's best min(topN, n) documents, best first, each scored sigmoid(logit).
function checkRanking(results, logits, topN) {
  const count = Math.min(topN ?? logits.length, logits.length);
  assert.equal(results.length, count);
  const indices = results.map((r) => r.index);
  assert.equal(new Set(indices).size, count, `repeated indices ${indices}`);
  for (const r of results) {
    const want = sigmoid(logits[r.index]);
    assert.ok(Math.abs(r.relevanceScore - want) <= REL_TOL * Math.abs(want),
      `document ${r.index}: server ${r.relevanceScore}, library ${want}`);
  }
  const scores = results.map((r) => r.relevanceScore);
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a), "not best first");
  const best = logits.map((l, i) => [l, i]).sort((a, b) => b[0] - a[0]).slice(0, count).map(([, i]) => i);
  assert.deepEqual([...indices].sort(), [...best].sort());
}

// A fetch that keeps each response body, for the strict schema check.
const bodies = [];
async function recordingFetch(url, init) {
  const response = await fetch(url, init);
  bodies.push(await response.clone().text());
  return response;
}

function assertSchema(schema, text) {
  const parsed = schema.parse(JSON.parse(text), { unrecognizedObjectKeys: "passthrough", skipValidation: false });
  assert.ok(parsed.ok, `the SDK's schema rejects the body: ${JSON.stringify(parsed.errors)}`);
}

const v1 = new CohereClient({ token: server.key, baseUrl: server.url, fetch: recordingFetch, timeoutInSeconds: 60 });
const v2 = new CohereClientV2({ token: server.key, environment: server.url, fetch: recordingFetch, timeoutInSeconds: 60 });

test("v1: string documents", async () => {
  const response = await v1.rerank({ model: "rerank-v3.5", query: QUERY, documents: DOCS });
  checkRanking(response.results, libraryLogits(QUERY, DOCS));
  assert.ok(response.results.every((r) => r.document === undefined));
  assert.ok(typeof response.id === "string" && response.id.length > 0);
  assert.equal(response.meta.apiVersion.version, "1");
  assert.equal(response.meta.billedUnits.searchUnits, 1);
  assertSchema(schemas.RerankResponse, bodies.at(-1));
});

test("v1: top_n and return_documents", async () => {
  const response = await v1.rerank({ query: QUERY, documents: DOCS, topN: 2, returnDocuments: true });
  checkRanking(response.results, libraryLogits(QUERY, DOCS), 2);
  for (const r of response.results) assert.equal(r.document.text, DOCS[r.index]);
  assertSchema(schemas.RerankResponse, bodies.at(-1));
});

test("v1: object documents with rank_fields", async () => {
  const fields = ["title", "text"];
  const response = await v1.rerank({ query: QUERY, documents: OBJECTS, rankFields: fields, returnDocuments: true });
  const texts = OBJECTS.map((o) => fields.map((f) => `${f}: ${o[f]}`).join("\n"));
  checkRanking(response.results, libraryLogits(QUERY, texts));
  for (const r of response.results) assert.deepEqual(r.document, OBJECTS[r.index]);
  assertSchema(schemas.RerankResponse, bodies.at(-1));
});

test("v2: string documents and top_n", async () => {
  const response = await v2.rerank({ model: "rerank-v3.5", query: QUERY, documents: DOCS, topN: 3 });
  checkRanking(response.results, libraryLogits(QUERY, DOCS), 3);
  assert.equal(response.meta.apiVersion.version, "2");
  assertSchema(schemas.V2RerankResponse, bodies.at(-1));
});

for (const [name, Client] of [["v1", CohereClient], ["v2", CohereClientV2]]) {
  test(`${name}: a wrong API key is Cohere.UnauthorizedError`, async () => {
    const client = new Client({ token: server.key + "-wrong", baseUrl: server.url, maxRetries: 0 });
    await assert.rejects(client.rerank({ model: "m", query: QUERY, documents: DOCS }), (error) => {
      assert.ok(error instanceof Cohere.UnauthorizedError, `got ${error}`);
      assert.equal(error.statusCode, 401);
      assert.equal(error.body.error.type, "authentication_error");
      return true;
    });
  });
}

test("v1 and v2: too many documents is Cohere.UnprocessableEntityError", async () => {
  const documents = Array.from({ length: server.maxDocuments + 1 }, (_, i) => `document ${i}`);
  for (const client of [v1, v2]) {
    await assert.rejects(client.rerank({ model: "m", query: QUERY, documents }), (error) => {
      assert.ok(error instanceof Cohere.UnprocessableEntityError, `got ${error}`);
      assert.equal(error.statusCode, 422);
      assert.equal(error.body.message, `${server.maxDocuments + 1} documents; the limit is ${server.maxDocuments}`);
      return true;
    });
  }
});
