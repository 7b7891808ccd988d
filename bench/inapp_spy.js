// The Node side of bench/bench_useragent.py: inapp-spy over the same user agents, the same loop.
// Usage: node bench/inapp_spy.js MODULES_DIR UA_FILE WARM_FILE
// Prints one JSON line: {"us_per_ua": ..., "in_app": ..., "count": ..., "node": ...}.
"use strict";
const fs = require("fs");
const path = require("path");

const [modulesDir, uaFile, warmFile] = process.argv.slice(2);
const InAppSpy = require(path.join(modulesDir, "node_modules", "inapp-spy")).default;
const read = (file) => fs.readFileSync(file, "utf8").split("\n").filter((line) => line.length > 0);
const uas = read(uaFile);

// Warm V8's JIT on other strings (the corpus) first, so the timed loop measures the compiled code:
// the kindest measurement for inapp-spy, which makes the ratio a conservative one for classify.
let inApp = 0;
for (let round = 0; round < 20; round++) {
  for (const ua of read(warmFile)) inApp += InAppSpy({ ua }).isInApp ? 1 : 0;
}
inApp = 0;
const start = process.hrtime.bigint();
for (const ua of uas) {
  // Counting the answers keeps the call from being optimised away; Python's loop discards them.
  if (InAppSpy({ ua }).isInApp) inApp++;
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ us_per_ua: (seconds / uas.length) * 1e6, in_app: inApp, count: uas.length,
                             node: process.version }));
