// Loaded with `node --import` before the MCP conformance suite's CLI (see hooks.mjs for why).
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
