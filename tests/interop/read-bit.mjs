// An independent reader of the registry's status lists, for tests/api/status_lists.rs:
// reads {"licence": <VC>, "list": <BitstringStatusListCredential>, "purpose": "revocation" |
// "suspension"} on standard input and prints `true` or `false`, the licence's bit in that
// list, using Digital Bazaar's @digitalbazaar/vc-bitstring-status-list (no network: the
// credential's proof is the Rust test's business; this checks the format and the bit order).
import {
  assertBitstringStatusListContext, decodeList, getCredentialStatus, statusTypeMatches
} from '@digitalbazaar/vc-bitstring-status-list';

const chunks = [];
for await (const chunk of process.stdin) {
  chunks.push(chunk);
}
const {licence, list, purpose} = JSON.parse(Buffer.concat(chunks).toString('utf8'));
if(!statusTypeMatches({credential: licence})) {
  throw new Error('the licence carries no BitstringStatusListEntry');
}
const entry = getCredentialStatus({credential: licence, statusPurpose: purpose});
assertBitstringStatusListContext({credential: list});
if(entry.statusListCredential !== list.id) {
  throw new Error(`the entry points at ${entry.statusListCredential}, not ${list.id}`);
}
if(!list.type.includes('BitstringStatusListCredential') ||
  list.credentialSubject.type !== 'BitstringStatusList' ||
  list.credentialSubject.statusPurpose !== purpose) {
  throw new Error('not a BitstringStatusListCredential for ' + purpose);
}
const bits = await decodeList({encodedList: list.credentialSubject.encodedList});
if(bits.length < 131072) {
  throw new Error(`a list of ${bits.length} entries is shorter than the minimum 131072`);
}
console.log(String(bits.getStatus(parseInt(entry.statusListIndex, 10))));
