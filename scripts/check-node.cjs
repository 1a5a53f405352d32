// The Node.js floor, checked before anything else loads (bin/knet, npm test, npm ci). Written
// for any Node: no modern syntax, no imports. @kubernetes/client-node's undici needs 22.19.
'use strict';

var MINIMUM = [22, 19, 0];

function tooOld(version) {
  var v = String(version).replace(/^v/, '').split('.').map(Number);
  for (var i = 0; i < 3; i++) {
    if ((v[i] || 0) > MINIMUM[i]) return false;
    if ((v[i] || 0) < MINIMUM[i]) return true;
  }
  return false;
}

function message(version) {
  return (
    'knet: needs Node.js >= ' + MINIMUM.join('.') + ', this is ' + version +
    ': run it with a newer Node, e.g. npx -y node@22 ./bin/knet … (or nvm install 22)'
  );
}

/** Exits 2 with one line on stderr when this Node is older than the floor. */
function checkNode(version) {
  var v = version || process.version;
  if (tooOld(v)) {
    process.stderr.write(message(v) + '\n');
    process.exit(2);
  }
}

module.exports = { MINIMUM: MINIMUM, tooOld: tooOld, message: message, checkNode: checkNode };

if (require.main === module) checkNode();
