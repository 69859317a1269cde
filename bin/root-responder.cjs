#!/usr/bin/env node
// The command line runs the TypeScript sources directly (tsx), so there is no build step.
process.env.ROOT_RESPONDER_CLI = '1';
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL || 'SILENT';
require('tsx/cjs');
require('../cli/main.ts');
