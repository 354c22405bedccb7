import { equal, ok, throws } from "node:assert/strict";
import { DecryptionFailed } from "./errors.ts";
import {
  joinPartIvs,
  type PartEntry,
  partsMac,
  splitPartIvs,
  verifyPartsMac,
} from "./parts_mac.ts";

const DATA_KEY = crypto.getRandomValues(new Uint8Array(32));
const iv = (b: number) => new Uint8Array(16).fill(b);
const PARTS: PartEntry[] = [
  { partNumber: 1, storedSize: 5 * 1024 * 1024 + 1296, iv: iv(1) },
  { partNumber: 2, storedSize: 5 * 1024 * 1024 + 1296, iv: iv(2) },
  { partNumber: 4, storedSize: 1000, iv: iv(4) },
];

Deno.test("the MAC of an unchanged part list verifies", () => {
  verifyPartsMac(DATA_KEY, PARTS, partsMac(DATA_KEY, PARTS));
  equal(partsMac(DATA_KEY, PARTS).length, 32);
});

Deno.test("a part dropped, swapped, renumbered, resized or given another IV fails the MAC", () => {
  const mac = partsMac(DATA_KEY, PARTS);
  const changed: Array<[string, PartEntry[]]> = [
    ["part 2 dropped", [PARTS[0]!, PARTS[2]!]],
    ["last part dropped", PARTS.slice(0, 2)],
    ["parts 1 and 2 swapped", [PARTS[1]!, PARTS[0]!, PARTS[2]!]],
    ["part 2 repeated", [PARTS[0]!, PARTS[1]!, PARTS[1]!, PARTS[2]!]],
    ["part 4 renumbered 3", [PARTS[0]!, PARTS[1]!, { ...PARTS[2]!, partNumber: 3 }]],
    ["part 4 one byte longer", [PARTS[0]!, PARTS[1]!, { ...PARTS[2]!, storedSize: 1001 }]],
    ["part 2 with another IV", [PARTS[0]!, { ...PARTS[1]!, iv: iv(9) }, PARTS[2]!]],
  ];
  for (const [what, parts] of changed) {
    throws(() => verifyPartsMac(DATA_KEY, parts, mac), DecryptionFailed, what);
  }
});

Deno.test("the MAC is keyed by the data key", () => {
  const other = crypto.getRandomValues(new Uint8Array(32));
  throws(() => verifyPartsMac(other, PARTS, partsMac(DATA_KEY, PARTS)), DecryptionFailed);
});

Deno.test("part IVs round-trip through their stored concatenation; a ragged list is refused", () => {
  const joined = joinPartIvs(PARTS.map((p) => p.iv));
  equal(joined.length, 48);
  const back = splitPartIvs(joined);
  ok(back.every((v, i) => v.every((b, j) => b === PARTS[i]!.iv[j])));
  throws(() => splitPartIvs(joined.subarray(0, 47)), DecryptionFailed);
});
