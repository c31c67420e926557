/** The sabotage matrix for temporary-partition, service-restart and reconnect-storm (see matrix-cases.ts). */
import { defineMatrixTests } from './matrix-cases.js';

defineMatrixTests(['temporary-partition', 'service-restart', 'reconnect-storm']);
