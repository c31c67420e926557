/** The sabotage matrix for latency-slow-consumer, token-expiry-storm and stale-cursor-retention (see matrix-cases.ts). */
import { defineMatrixTests } from './matrix-cases.js';

defineMatrixTests(['latency-slow-consumer', 'token-expiry-storm', 'stale-cursor-retention']);
