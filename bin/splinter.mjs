#!/usr/bin/env node
// The launcher's name before it became CommonJS (bin/splinter.cjs, which package.json's bin names):
// a link already made to this name still runs the command (npx keeps one per checkout it ran in).
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./splinter.cjs');
