// Validates docs/asyncapi.yaml with the AsyncAPI parser (the spec's JSON Schema, its $refs and
// the parser's own rules): any error or warning fails; hints are printed. It also checks the
// parsed model says what the socket really does: the channel's address, and one message per
// event type the services publish.
// Usage: node .ci/asyncapi_validate.cjs [docs/asyncapi.yaml]   (@asyncapi/parser on NODE_PATH)
const path = require("path");
const { Parser, fromFile } = require("@asyncapi/parser");

const SEVERITY = ["error", "warning", "information", "hint"];
const EVENT_TYPES = [
  "task.created", "task.updated", "task.deleted", "task.assigned",
  "project.updated", "project.deleted",
  "member.added", "member.updated", "member.removed",
];

async function main() {
  const file = process.argv[2] || path.join(__dirname, "..", "docs", "asyncapi.yaml");
  const { document, diagnostics } = await fromFile(new Parser(), file).parse();
  let failed = 0;
  for (const diagnostic of diagnostics) {
    const severity = SEVERITY[diagnostic.severity] || String(diagnostic.severity);
    const where = (diagnostic.path || []).join(".") || "(document)";
    console.log(`${severity}: ${diagnostic.message} at ${where} [${diagnostic.code}]`);
    if (diagnostic.severity <= 1) failed += 1;
  }
  if (!document) {
    console.log(`${file} could not be parsed.`);
    return 1;
  }
  const check = (ok, message) => {
    console.log(`${ok ? "ok  " : "FAIL"} ${message}`);
    if (!ok) failed += 1;
  };
  check(document.version().startsWith("3."), `AsyncAPI ${document.version()}`);
  const socket = document.channels().get("events");
  check(socket && socket.address() === "/ws/v1/events/", "the events channel is /ws/v1/events/");
  const webhook = document.channels().get("webhook");
  check(Boolean(webhook), "the webhook channel is described");
  const names = (channel) => new Set(channel ? channel.messages().all().map((m) => m.name()) : []);
  const onSocket = names(socket);
  const onWebhook = names(webhook);
  for (const type of EVENT_TYPES) {
    check(onSocket.has(type), `the socket carries ${type}`);
    check(onWebhook.has(type), `webhooks carry ${type}`);
  }
  for (const type of ["connection.ready", "ping", "pong", "error"]) {
    check(onSocket.has(type), `the socket carries ${type}`);
  }
  check(onWebhook.has("ping"), "webhooks carry ping");
  console.log(failed ? `${failed} problem(s) in ${file}` : `${file} is a valid AsyncAPI document`);
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (error) => {
  console.error(error);
  process.exit(1);
});
