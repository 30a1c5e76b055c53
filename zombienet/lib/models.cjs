// Whitelist entries of the models the tests use, as `modelRegistry.whitelistModel` takes them,
// read from runtime/models.json (see lib/chain.cjs).
'use strict';

const { GEMMA, SMOLLM2, whitelistEntry } = require('./chain.cjs');

module.exports = { GEMMA, SMOLLM2, whitelistEntry };
